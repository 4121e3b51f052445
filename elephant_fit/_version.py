"""Version of elephant-fit (the single source of truth)."""

__version__ = "0.1.0"
