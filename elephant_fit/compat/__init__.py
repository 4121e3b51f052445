"""Drop-in twins of Elephant functions: same module names, signatures, defaults and return types.

Each compat function converts Neo/quantities input to tensors, calls the functional statistic of
:mod:`elephant_fit.statistics`, and converts the result back.
"""
