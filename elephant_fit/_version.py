"""Version of elephant-fit (the single source of truth)."""

#: The version of elephant-fit, a PEP 440 string (``"MAJOR.MINOR.PATCH"``); also
#: ``elephant_fit.__version__`` and ``elephant-fit --version``.
__version__ = "0.1.0"
