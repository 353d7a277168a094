"""Add documents to the corpus folder and remove them: what the web app's upload and remove buttons do.

Every file lands inside the corpus folder under a cleaned name, whole or not at all, and only after
it has been read successfully; removal only ever deletes a file inside the corpus folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from qa.documents import MAX_FILE_BYTES, SUFFIXES, read_document
from qa.errors import UnreadableDocument, UnsupportedFormat

MAX_NAME_CHARS = 100


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
    return path


def _unused(path: Path) -> Path:
    """path, or path with -2, -3, ... before its suffix if that name is taken."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate
