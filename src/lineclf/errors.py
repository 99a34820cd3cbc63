"""Exceptions raised by lineclf. The library raises them; only the CLI turns
them into messages and exit codes."""

from __future__ import annotations


class LineclfError(Exception):
    """Base class of every error lineclf raises on purpose.

    Its message is one line meant for a person: what is wrong, where, and
    (where it helps) what to do.
    """

    exit_code = 1


class DataFormatError(LineclfError):
    """An input dump or labelled file cannot be read as such."""


class ModelFileError(LineclfError):
    """A model file is missing, damaged, not a lineclf model, or incompatible."""


class UsageError(LineclfError):
    """The request itself cannot be carried out (e.g. outputs would collide)."""

    exit_code = 2


class OutputError(LineclfError):
    """An output file or folder cannot be written."""


class UntrustedModelWarning(UserWarning):
    """Loading a model file other than the shipped, hash-checked one: a joblib
    model file is a pickle, and loading it runs code from it."""


class InputWarning(UserWarning):
    """Something odd in an input that lineclf read anyway (e.g. a WARC record
    whose Content-Length does not match its text)."""
