"""Errors the library raises; each message says how to fix the problem."""

from __future__ import annotations

from pathlib import Path


class QAError(Exception):
    """Base class for every error this package raises on purpose."""


class IndexNotFound(QAError):
    """There is no usable index where one was expected."""


class IndexCorrupt(QAError):
    """Index files are missing, truncated or inconsistent."""


class ModelMismatch(QAError):
    """The index was built with another model or other chunker settings."""


class UnsupportedFormat(QAError):
    """A file's format cannot be read."""


class UnreadableDocument(QAError):
    """A file exists but its text cannot be extracted."""


class BadQuestion(QAError):
    """A question that cannot be searched (empty, only symbols, ...)."""


class ModelNotAvailable(QAError):
    """The embedding model cannot be loaded without downloading it."""


class EmptyCorpus(QAError):
    """The corpus folder holds no document that can be read."""


class NoHelpfulFeedback(QAError):
    """A feedback file holds no thumbs up yet, so there is no question in it to score."""


class BadFilter(QAError):
    """A filter that cannot be applied (a malformed date, a start after the end, ...)."""


class FetchFailed(QAError):
    """A document could not be fetched from its web address."""


class AlreadyInCorpus(QAError):
    """The document at a web address was added before; path is where it is stored."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path
