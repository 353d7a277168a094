"""File bytes -> Reading (text, typed blocks, metadata): one reader per format, chosen by the file's suffix."""

from __future__ import annotations

from collections.abc import Callable

from qa.readers.blocks import PAGE_BREAK, Block, Reading

__all__ = ["PAGE_BREAK", "READERS", "SUFFIXES", "Block", "Reading", "read"]


def _text(data: bytes, name: str) -> Reading:
    from qa.readers.text import read_text

    return read_text(data, name)


def _html(data: bytes, name: str) -> Reading:
    from qa.readers.html import read_html

    return read_html(data, name)


def _pdf(data: bytes, name: str) -> Reading:
    from qa.readers.pdf import read_pdf

    return read_pdf(data, name)


def _docx(data: bytes, name: str) -> Reading:
    from qa.readers.docx import read_docx

    return read_docx(data, name)


def _pptx(data: bytes, name: str) -> Reading:
    from qa.readers.pptx import read_pptx

    return read_pptx(data, name)


# each reader imported when a file of its kind is read: `import qa` stays fast, and a format's library is loaded
# only where such files are indexed
READERS: dict[str, Callable[[bytes, str], Reading]] = {
    ".txt": _text, ".md": _text, ".html": _html, ".htm": _html, ".pdf": _pdf, ".docx": _docx, ".pptx": _pptx,
}
SUFFIXES = tuple(READERS)


def read(data: bytes, name: str, suffix: str) -> Reading:
    """Read a file's bytes by the reader for its suffix (one of SUFFIXES).

    Raises:
        UnreadableDocument: the reader cannot make text of the bytes; the message names the file and says why.
    """
    return READERS[suffix](data, name)
