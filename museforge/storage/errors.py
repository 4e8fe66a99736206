"""Errors the store raises. Each message is one line a person can act on."""

from __future__ import annotations


class StorageError(Exception):
    """The store could not do what was asked (I/O, database)."""


class NotFound(StorageError):
    """Unknown, or outside the acting user's reach (never told apart: no 'forbidden')."""


class InvalidReference(StorageError):
    """A malformed artwork reference such as ``#0`` or ``#1 v0``."""


class HistoryError(StorageError):
    """Nothing to undo / redo."""


class DatabaseUnavailable(StorageError):
    """The database URL cannot be reached or opened."""


class AssetsUnavailable(StorageError):
    """The object store holding the assets cannot be reached, refuses the credentials,
    or has no such bucket."""


class AlreadyExists(StorageError):
    """A name that is taken (``museforge users add`` of a person who has an account)."""


class InvalidName(StorageError):
    """A name that cannot be a person's account name."""
