"""The version of jupyter-qrt (its own module, so that any layer can read it cheaply)."""

__version__ = "0.1.0"
