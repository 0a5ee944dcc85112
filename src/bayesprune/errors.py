"""Errors that the command line turns into one clear line and exit status 2."""

from __future__ import annotations


class BayesPruneError(Exception):
    """A user-facing error: bad input, a bad option, a missing or untrusted file.

    The message is a single line that says what is wrong, where (file, row, column) and how to fix it.
    The CLI prints it to stderr and exits with status 2; it never shows a traceback for these.
    """


class InputError(BayesPruneError):
    """The data given (a CSV, a data directory, a model file) cannot be used as it is."""


class OptionError(BayesPruneError):
    """A command-line option or API argument is out of range or unknown."""
