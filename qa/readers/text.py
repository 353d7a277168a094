"""Plain text and Markdown (.txt, .md): decoded in whatever encoding they were saved in, with an optional
YAML metadata header between '---' lines."""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import yaml

from qa.errors import UnreadableDocument
from qa.readers.blocks import Reading

METADATA_KEYS = ("title", "publisher", "date", "url", "language")
FRONT_MATTER = re.compile(r"---\n(.*?)\n---\n", re.DOTALL)  # a text file's metadata header: YAML between '---' lines
BYTE_ORDER_MARKS = (  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)


def decode(data: bytes, name: str) -> str:
    """Decode text: by its byte order mark, else as UTF-8, else in the encoding charset-normalizer finds
    (cp1252, Shift_JIS, ...). Binary data is refused."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return _text_not_binary(data.decode(encoding), name)
            except UnicodeDecodeError:
                raise UnreadableDocument(f"{name}: starts like {encoding} text but is not; save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise UnreadableDocument(f"{name}: looks like a binary file, not text")
    try:
        return _text_not_binary(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableDocument(f"{name}: looks like a binary file, or text in an unknown encoding; save it as UTF-8")
    text = str(best)
    if len(text) == len(data) and not best.coherence:
        # a single-byte code page, and too little text to tell which: take the most common one, Windows-1252
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("cp1252")
    return _text_not_binary(text, name)


def _text_not_binary(text: str, name: str) -> str:
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f" or 0x7F <= ord(ch) < 0xA0)
    if controls > 0.05 * min(len(text), 8192):
        raise UnreadableDocument(f"{name}: looks like a binary file, not text")
    return text.removeprefix("\ufeff")


def read_text(data: bytes, name: str) -> Reading:
    text = decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
    match = FRONT_MATTER.match(text)
    if not match:
        return Reading(text)
    try:
        header = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise UnreadableDocument(f"{name}: the metadata header between '---' lines is not valid YAML ({error})")
    except ValueError as error:  # a date or time YAML reads as one but no calendar has: 2025-02-30, 25:00
        raise UnreadableDocument(
            f"{name}: the metadata header between '---' lines holds an impossible date or time ({error}); "
            "write dates as YYYY-MM-DD"
        ) from None
    except RecursionError:  # PyYAML's parser recurses once per level of nesting: "[[[[...]]]]"
        raise UnreadableDocument(
            f"{name}: the metadata header between '---' lines is nested too deeply; write it as 'key: value' lines"
        ) from None
    if not isinstance(header, dict):
        raise UnreadableDocument(f"{name}: the metadata header must be 'key: value' lines")
    metadata = {key: _as_text(header[key]) for key in METADATA_KEYS if header.get(key) is not None}
    return Reading(text[match.end() :], metadata=metadata)


def _as_text(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value).strip()
