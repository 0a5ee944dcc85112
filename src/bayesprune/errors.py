"""Errors that the command line turns into one clear line and exit status 2.

The input and option errors are ``ValueError``s, so a Python user catches them the usual way; a library of an
unsupported version is an ``ImportError``.
"""

from __future__ import annotations


class BayesPruneError(Exception):
    """A user-facing error: bad input, a bad option, a missing or untrusted file.

    The message is a single line that says what is wrong, where (file, row, column) and how to fix it.
    The CLI prints it to stderr and exits with status 2; it never shows a traceback for these.
    """


class InputError(BayesPruneError, ValueError):
    """The data given (a CSV, a data directory, a model file) cannot be used as it is."""


class OptionError(BayesPruneError, ValueError):
    """An argument is out of range or unknown.

    When the error is about one parameter, ``param`` is its Python name and the message reads
    ``"<param> <detail>"`` (e.g. ``"samples must be >= 2, got 1"``); the command line shows the same detail after
    the option's flag instead (``"--samples must be >= 2, got 1"``).
    """

    def __init__(self, message: str, *, param: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.param = param
        self.detail = detail

    @classmethod
    def about(cls, param: str, detail: str) -> OptionError:
        """The error for parameter ``param``: ``"<param> <detail>"``."""
        return cls(f"{param} {detail}", param=param, detail=detail)


class DependencyError(BayesPruneError, ImportError):
    """An installed library is of a version bayesprune is not written for (the message names the fix)."""
