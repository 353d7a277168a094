"""Read corpus files (.txt, .md, .html, .pdf) into Documents with their metadata."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from qa.dates import MONTH as MONTH  # re-exported: others import it from here; qa.dates is its home
from qa.dates import find_dates
from qa.errors import UnreadableDocument, UnsupportedFormat

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 20_000_000
PAGE_BREAK = "\f"  # PDF pages and slides are separated by a form feed in Document.text
BYTE_ORDER_MARKS = (  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
METADATA_KEYS = ("title", "publisher", "date", "url", "language")
FRONT_MATTER = re.compile(r"---\n(.*?)\n---\n", re.DOTALL)  # a text file's metadata header: YAML between '---' lines
# A document without metadata gives its own: the title from its first lines (own_title), the date from a dateline
MAX_TITLE_CHARS = 120
MAX_TITLE_WORDS = 20  # a longer line is a sentence, not a title ...
# ... counting each Chinese or Japanese character as half a word: they are written without spaces between words,
# and a Japanese word is about two characters, so a 40-character Japanese line is as long as a 20-word English one
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
SENTENCE_ENDS = (".", "!", "?", ":", ";", ",", "。", "、", "．", "！", "？", "：", "；", "，")  # a title ends otherwise
DATELINE_LINES = 20  # the date is looked for in the document's first lines ...
DATELINE_CHARS = 40  # ... where it begins this close to the line's start ("Brussels, 23 January 2019 - ..."),
# counted in columns, a wide (Chinese or Japanese) character as two, after the spaces that indent or right-align it
# A metadata table beside the documents it describes (the seeds' METADATA.md is one): a Markdown table, or a CSV
# file, with a column naming each file and columns named like METADATA_KEYS. Read as their metadata, not indexed.
TABLE_SUFFIXES = (".md", ".csv")
FILE_COLUMNS = ("file", "filename", "file_name", "path")
TABLE_HEADER = re.compile(rf"(?:^|[|,])[ \t]*(?:{'|'.join(FILE_COLUMNS)})[ \t]*(?:[|,]|$)", re.IGNORECASE | re.MULTILINE)
NOT_A_VALUE = re.compile(r"\(.*\)|[-–—]*", re.DOTALL)  # "(not captured)", "—": a note in the cell, not a value
# a list's item: "- ", "1. ", and as Japanese lists are marked, without a space: "・", "●", "①", "(1)", "１．"
LIST_ITEM = re.compile(r"\s*(?:(?:[-*•–]|\d{1,3}[.)])\s|[・●○■□◆◇▪①-⑳]|[(（]?[0-9０-９]{1,3}[)）．])")


@dataclass(frozen=True)
class Document:
    """One corpus file: its text and what is known about it."""

    doc_id: str  # path relative to the corpus folder, with forward slashes
    text: str
    title: str
    publisher: str = ""
    date: str = ""  # ISO 8601 (YYYY-MM-DD) where known
    url: str = ""
    language: str = ""
    sha256: str = ""  # of the file's bytes: what the index compares to notice changes


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


def read_document(path: Path, doc_id: str | None = None, described: dict[str, str] | None = None) -> Document:
    """Read one file into a Document. described: what a metadata table says of it (metadata_table); the
    file's own metadata wins, and what neither gives is taken from the text (own_title, dateline).

    Raises:
        UnsupportedFormat: the file's suffix has no reader.
        UnreadableDocument: the file is empty, binary, too large or fails to parse.
    """
    name = doc_id or path.name  # what messages call the file: in a corpus, its path there ("sub/a.txt")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedFormat(
            f"{name}: unsupported format {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}"
        )
    try:
        size = path.stat().st_size  # before reading: a 50 GB log is refused without loading it
        if size > MAX_FILE_BYTES:
            raise UnreadableDocument(
                f"{name}: {size / 1e6:.0f} MB is larger than the "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB limit; split it into smaller documents"
            )
        data = path.read_bytes()
    except OSError as error:  # e.g. removed since the folder was listed, or a broken link
        raise UnreadableDocument(f"{name}: cannot read the file ({error.strerror})") from error
    reader = _read_pdf if suffix == ".pdf" else _read_html if suffix in (".html", ".htm") else _read_text
    own, text = reader(data, name)
    metadata = (described or {}) | {key: value for key, value in own.items() if value}
    text = text.strip()
    if not text:
        raise UnreadableDocument(f"{name}: no text found (empty, or a scanned PDF without a text layer)")
    return Document(
        doc_id=name,
        text=text,
        title=metadata.get("title") or own_title(text) or path.stem,
        publisher=metadata.get("publisher", ""),
        date=metadata.get("date") or dateline(text),
        url=metadata.get("url", ""),
        language=metadata.get("language", ""),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def read_corpus(corpus_dir: Path) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file below corpus_dir; files that fail are skipped with a warning."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    paths = [
        path for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file() or p.is_symlink())
        # hidden files and folders, e.g. an upload still being written, are left alone
        if not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    ]
    files = set(paths)
    tables = {path: rows for path in paths if (rows := metadata_table(path, files))}
    described = {file: metadata for rows in tables.values() for file, metadata in rows.items()}
    for path in paths:
        doc_id = path.relative_to(corpus_dir).as_posix()
        if path in tables:
            reason = f"{doc_id}: a metadata table, read as what is known of the {len(tables[path])} files it lists"
            skipped.append(Skipped(doc_id, reason))
            log.info("skipped %s", reason)
            continue
        try:
            document = read_document(path, doc_id, described.get(path))
        except (UnsupportedFormat, UnreadableDocument) as error:
            skipped.append(Skipped(doc_id, str(error)))
            log.warning("skipped %s", error)
            continue
        if document.sha256 in seen:
            reason = f"{doc_id}: same content as {seen[document.sha256]}; indexed once"
            skipped.append(Skipped(doc_id, reason))
            log.warning("skipped %s", reason)
            continue
        seen[document.sha256] = doc_id
        documents.append(document)
    return documents, skipped


def metadata_table(path: Path, files: set[Path]) -> dict[Path, dict[str, str]]:
    """What path says of the files it lists, if it is a metadata table: {file: {"title": ..., "date": ...}};
    else {}.

    A metadata table is a Markdown table or a CSV file with a column naming files (FILE_COLUMNS), relative
    to its own folder, and columns named like METADATA_KEYS (others, such as notes, are ignored). It counts
    only if it names one of files, so a document that merely holds a table with a "file" column stays a
    document. A cell that is a note ("(not captured)", "—") gives nothing, and the text is asked instead.
    """
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return {}
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return {}
        text = decode(path.read_bytes(), path.name)
        if not TABLE_HEADER.search(text):
            return {}
        rows = list(csv.DictReader(io.StringIO(text))) if path.suffix.lower() == ".csv" else _markdown_rows(text)
    except (OSError, UnreadableDocument, csv.Error):
        return {}  # read_document says what is wrong with it
    described = {}
    for row in rows:
        cells = {str(name).strip().casefold(): _cell(value) for name, value in row.items() if name}
        name = next((cells[column] for column in FILE_COLUMNS if cells.get(column)), "")
        file = path.parent / name
        if name and file in files and file != path:
            described[file] = {key: cells[key] for key in METADATA_KEYS if cells.get(key)}
    return described


def _markdown_rows(text: str) -> list[dict[str, str]]:
    """The rows of every table in Markdown text, each as {column heading: cell} (markdown-it-py's parser)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[dict[str, str]] = []
    heading: list[str] = []
    cells: list[str] = []
    for before, token in itertools.pairwise(tokens):
        if token.type == "thead_open":  # a new table
            heading = []
        elif token.type == "tr_open":
            cells = []
        elif token.type == "inline" and before.type == "th_open":
            heading.append(token.content)
        elif token.type == "inline" and before.type == "td_open":
            cells.append(token.content)
        elif token.type == "tr_close" and cells:
            rows.append(dict(zip(heading, cells)))
    return rows


def _cell(value: object) -> str:
    text = str(value or "").strip().strip("`").strip()
    return "" if NOT_A_VALUE.fullmatch(text) else text


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


def _read_text(data: bytes, name: str) -> tuple[dict[str, str], str]:
    text = decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
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
    return metadata, text[match.end() :]


def _read_html(data: bytes, name: str) -> tuple[dict[str, str], str]:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    html = decode(data, name)
    extracted = trafilatura.bare_extraction(
        html, with_metadata=True, include_tables=True, include_comments=False, favor_recall=True
    )
    text = (extracted.text if extracted else "") or trafilatura.html2txt(html) or ""
    metadata = {}
    if extracted:
        for key, value in (("title", extracted.title), ("date", extracted.date), ("url", extracted.url)):
            if value:
                metadata[key] = value
        if extracted.sitename:
            metadata["publisher"] = extracted.sitename
    return metadata, text


def _read_pdf(data: bytes, name: str) -> tuple[dict[str, str], str]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise UnreadableDocument(f"{name}: the PDF cannot be parsed ({error})") from error
    metadata = {}
    if info.get("/Title"):
        metadata["title"] = str(info["/Title"])
    created = getattr(reader.metadata, "creation_date", None) if reader.metadata else None
    if created:
        metadata["date"] = created.date().isoformat()
    return metadata, f"\n{PAGE_BREAK}\n".join(page.strip() for page in pages)


def _as_text(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value).strip()


def own_title(text: str) -> str:
    """The title of a document without metadata: a Markdown heading at its top, or its first short line that
    stands apart from the text below it, passing over a run of short lines (a web page's navigation: "Skip to
    main content", the site's name, "Press release"); else its first line (a news story's opening sentence).
    """
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines()]
        if not lines:  # between two blank lines in a row
            continue
        first = lines[0].strip(" #*")
        if lines[0].startswith("#"):
            return first[:MAX_TITLE_CHARS]
        if not _reads_as_title(first):
            break  # the text opens with a sentence: it has no title line
        if len(lines) == 1 or not all(_reads_as_title(line) for line in lines[1:]):
            return first[:MAX_TITLE_CHARS]
    return text.lstrip().split("\n", 1)[0].strip(" #*")[:MAX_TITLE_CHARS]


def _reads_as_title(line: str) -> bool:
    return 0 < _length_in_words(line) <= MAX_TITLE_WORDS and not line.rstrip("*_ ").endswith(SENTENCE_ENDS)


def _length_in_words(line: str) -> float:
    """How long line is in words, each Chinese or Japanese character counting as half of one (see MAX_TITLE_WORDS)."""
    wide = len(CJK.findall(line))
    return len(CJK.sub(" ", line).split()) + wide / 2


def dateline(text: str) -> str:
    """The date of a document without metadata, as YYYY-MM-DD, from a dateline near its top ("Brussels,
    23 January 2019 - ...", "Published on May 1, 2024", "令和6年5月1日", "2024年5月1日"): the first full date
    (qa.dates.find_dates) that begins a line or nearly; "" when there is none. A date further into a line, or in
    a list, is an event the text is about ("- 30 October 2023: G7 leaders agree ...", "・2023年10月30日 ..."),
    not the day it was published.
    """
    for line in text.strip().splitlines()[:DATELINE_LINES]:
        if LIST_ITEM.match(line):
            continue
        # only the line's head is read: a date beginning past DATELINE_CHARS is no dateline, and a one-line
        # document of a megabyte is not normalised whole for it
        head = line.strip()[: DATELINE_CHARS + 40]
        found = find_dates(head)
        if found and _columns(head[: found[0].start]) <= DATELINE_CHARS:
            return found[0].iso
    return ""


def _columns(text: str) -> int:
    """How wide text is written: a wide (Chinese, Japanese, full-width) character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
