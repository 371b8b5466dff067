"""The error of a file that cannot be read as a table (its own module so that every reader can raise it)."""

from __future__ import annotations


class DataFileError(ValueError):
    """A file cannot be read as a table; the message names the file (and line or byte if known)."""
