"""Add documents to the corpus folder and remove them: what `qa add` and the web app's upload and remove buttons do.

Every file lands inside the corpus folder under a cleaned name, whole or not at all, and only after
it has been read successfully; removal only ever deletes a file inside the corpus folder. A document
fetched from the web has its address recorded in the corpus folder's sources.csv, a metadata table
(file, url) that the reader takes as the address to cite.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from qa.documents import MAX_FILE_BYTES, SUFFIXES, read_document
from qa.errors import AlreadyInCorpus, UnreadableDocument, UnsupportedFormat
from qa.fetch import Fetched, fetch

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 100
SOURCES = "sources.csv"  # the address each fetched document came from, as columns file and url


def clean_name(name: str) -> str:
    """A safe file name from an uploaded one: no folders, no hidden files, only letters, digits, '.', '-', '_'.

    >>> clean_name("../../etc/Joint Statement (final).PDF")
    'Joint-Statement-final.pdf'
    """
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip(".-_")[:MAX_NAME_CHARS] or "document"
    return f"{stem}{suffix.lower()}"


def add_file(corpus_dir: Path, name: str, data: bytes) -> Path:
    """Store data in corpus_dir under a cleaned, unused version of name, if it is a readable document.

    Raises:
        UnsupportedFormat, UnreadableDocument: the file is not one the index can read; nothing is stored.
    """
    target = _store(corpus_dir, name, data)
    _forget(corpus_dir, target.name)  # a row left by a document of that name deleted by hand
    return target


def add_path(corpus_dir: Path, path: Path) -> Path:
    """Copy the file at path into corpus_dir (see add_file), refusing a too large one before reading it.

    Raises:
        UnsupportedFormat, UnreadableDocument: the file is missing, too large, or not one the index can read.
    """
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnreadableDocument(f"{path} is not a file; give a document's path, or an http(s) address")
        if size > MAX_FILE_BYTES:
            raise UnreadableDocument(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB "
                                     "limit; split it into smaller documents")
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableDocument(f"{path}: cannot read the file ({error.strerror}); give a document's path, or "
                                 "an http(s) address") from error
    return add_file(corpus_dir, path.name, data)


def add_address(corpus_dir: Path, url: str, *, fetch: Callable[[str], Fetched] = fetch) -> Path:
    """Fetch the document at url into corpus_dir (see add_file) and record its final address in sources.csv,
    so that it is cited by that address.

    Raises:
        AlreadyInCorpus: the address (as given, or where it redirects) is recorded for a document still there.
        FetchFailed: the document could not be fetched (qa.fetch.fetch says why).
        UnsupportedFormat, UnreadableDocument: what was fetched is not a document the index can read.
    """
    _refuse_known(corpus_dir, url.strip())  # before downloading it again
    fetched = fetch(url)
    with _locked(corpus_dir):  # two adds of one address at once store it once
        _refuse_known(corpus_dir, url.strip(), fetched.url)
        target = _store(corpus_dir, fetched.name, fetched.data)
        _record(corpus_dir, target.name, fetched.url)
    return target


def sources(corpus_dir: Path) -> dict[str, str]:
    """The address each fetched document came from, by its path in corpus_dir, as sources.csv records it."""
    return {row["file"]: row["url"] for row in _rows(corpus_dir) if row.get("file") and row.get("url")}


def _store(corpus_dir: Path, name: str, data: bytes) -> Path:
    """add_file's work: data stored under a cleaned, unused version of name, after a draft of it is read."""
    target_name = clean_name(name)
    suffix = Path(target_name).suffix
    if suffix not in SUFFIXES:
        raise UnsupportedFormat(f"{name}: unsupported format {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableDocument(f"{name}: {len(data) / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    # written in a hidden folder first: the index ignores hidden paths, so a half-written upload is never read
    drafts = Path(tempfile.mkdtemp(prefix=".upload-", dir=corpus_dir))
    try:
        draft = drafts / target_name
        draft.write_bytes(data)
        read_document(draft, target_name)  # refuse what the index would skip, before it is in the corpus
        while True:
            target = _unused(corpus_dir / target_name)
            try:
                os.link(draft, target)  # unlike rename, never replaces a file another upload just stored
                break
            except FileExistsError:
                continue
    finally:
        shutil.rmtree(drafts, ignore_errors=True)
    return target


def remove_file(corpus_dir: Path, doc_id: str) -> Path:
    """Delete the document doc_id (its path relative to corpus_dir) from the corpus folder.

    Raises:
        FileNotFoundError: no such document inside corpus_dir.
    """
    root = corpus_dir.resolve()
    path = (root / doc_id).resolve()
    if root not in path.parents or not path.is_file():
        raise FileNotFoundError(f"{doc_id} is not a document in {corpus_dir}")
    path.unlink()
    _forget(corpus_dir, path.relative_to(root).as_posix())
    return path


def _forget(corpus_dir: Path, file: str) -> None:
    """Drop the address sources.csv records for file, if any: a later document of that name is not cited by it."""
    try:
        if file in sources(corpus_dir):
            with _locked(corpus_dir):
                _record(corpus_dir, file, None)
    except UnreadableDocument as error:  # the file itself was stored or removed: say so, and what is wrong here
        log.warning("%s", error)


def _refuse_known(corpus_dir: Path, *urls: str) -> None:
    """AlreadyInCorpus if one of urls is recorded for a document that is still in corpus_dir."""
    for file, url in sources(corpus_dir).items():
        if url in urls and (corpus_dir / file).is_file():
            raise AlreadyInCorpus(f"{url} is already in the corpus as {corpus_dir / file}; to fetch it again, "
                                  f"remove {file} first", corpus_dir / file)


def _rows(corpus_dir: Path) -> list[dict[str, str]]:
    """The rows of corpus_dir/sources.csv; none if there is none."""
    path = corpus_dir / SOURCES
    try:
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UnreadableDocument(f"{path} cannot be read as a UTF-8 CSV table ({error}); fix it, or remove it and "
                                 "add the addresses again") from error


def _record(corpus_dir: Path, file: str, url: str | None) -> None:
    """Set the address of file in sources.csv to url (None: forget it), keeping every other row and column.

    Written to a draft that replaces it, so a reader sees the old table or the new one, never half of one.
    Call with _locked(corpus_dir) held, so that two writers do not lose each other's rows.
    """
    rows = [row for row in _rows(corpus_dir) if row.get("file") != file]
    if url is not None:
        rows.append({"file": file, "url": url})
    target = corpus_dir / SOURCES
    if not rows:
        target.unlink(missing_ok=True)  # a table naming no file would be read as a document, and skipped
        return
    columns = list(dict.fromkeys(["file", "url", *(column for row in rows for column in row if column)]))
    draft = corpus_dir / f".{SOURCES}.draft"  # hidden, so the index never reads it; one writer at a time (_locked)
    try:
        with draft.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns, restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(draft, target)
    finally:
        draft.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(corpus_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the corpus folder (flock on the folder itself: no lock file among the documents)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(corpus_dir, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # other threads and processes wait here; closing releases it
        yield
    finally:
        os.close(folder)


def _unused(path: Path) -> Path:
    """path, or path with -2, -3, ... before its suffix if that name is taken."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate
