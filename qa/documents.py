"""Read corpus files into Documents with their metadata: each format by its reader (qa.readers), then what the
file does not state taken from a metadata table beside it or from the text itself (own_title, dateline)."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qa.dates import MONTH as MONTH  # re-exported: others import it from here; qa.dates is its home
from qa.dates import find_dates
from qa.errors import UnreadableDocument, UnsupportedFormat
from qa.readers import PAGE_BREAK as PAGE_BREAK  # re-exported: the chunker reads pages by it
from qa.readers import SUFFIXES, Block, read
from qa.readers.text import FRONT_MATTER as FRONT_MATTER  # re-exported for bench.growth
from qa.readers.text import METADATA_KEYS, decode

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20_000_000
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
    # where its reader found headings, paragraphs, items, table rows and captions; none for plain text, whose
    # lines the chunker reads. Not stored in the index: its chunks carry what they need of them.
    blocks: tuple[Block, ...] = field(default=(), repr=False, compare=False)
    paged: bool = False  # laid out in pages (a PDF, a slide deck): its citations name the page


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
    reading = read(data, name, suffix)
    metadata = (described or {}) | {key: value for key, value in reading.metadata.items() if value}
    text = reading.text
    if not text.strip():
        raise UnreadableDocument(f"{name}: no text found (empty, or only images)")
    if not reading.blocks:  # plain text: the chunker reads its lines, from the first that is not blank
        text = text.strip()
    return Document(
        doc_id=name,
        text=text,
        title=metadata.get("title") or own_title(text) or path.stem,
        publisher=metadata.get("publisher", ""),
        # a dateline says when the document is from; a file's creation date says when the file was made
        date=metadata.get("date") or dateline(text) or reading.created,
        url=metadata.get("url", ""),
        language=metadata.get("language", ""),
        sha256=hashlib.sha256(data).hexdigest(),
        blocks=reading.blocks,
        paged=reading.paged,
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
