"""Exports of an encoder kept once per installation, so that builds do not make them again.

Exporting multilingual-e5-small to int8 ONNX (qa.multilingual.export) takes about 5 s on two cores: more than the
rest of a build of the bundled corpus. What it makes depends only on the model file (hash-pinned), the code that
makes it (EXPORT_VERSION) and the libraries that run it, so the export is made once, kept in config.cache_dir()
under a key of all of those, and each build copies it into its generation, where it is hashed in the manifest and
checked at load like every other file. `.ci/setup` makes it at install time; without that, the first build does.

An entry is a folder named by its key, holding the files and ENTRY (their SHA-256 and the manifest record). It is
written in a temporary folder beside it and renamed into place, so an entry is whole or missing; its files are
checked against ENTRY before each use, and an entry that fails the check is made again. Generations get copies,
not links: a file of an index written over in place (as root, whom no permission stops) would change the cache's.
Where the cache cannot be written (a read-only installation), the export is made in a folder of the process's own,
as it was before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from qa import config

log = logging.getLogger(__name__)

ENTRY = "entry.json"
_LOCK = threading.Lock()
_SCRATCH: list[tempfile.TemporaryDirectory] = []  # exports made outside the cache; removed when the process ends


def key_of(record: dict, libraries: tuple[str, ...]) -> str:
    """A short hash of what an export is made from: its manifest record and the installed versions of libraries."""
    versions = {name: _version(name) for name in libraries}
    text = json.dumps({"record": record, "libraries": versions}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kept(name: str, key: str, files: tuple[str, ...], make: Callable[[Path], dict]) -> tuple[Path, dict]:
    """The folder holding files of the export name with key, and its manifest record: the cache's entry if it is
    whole, else made by make(folder) (which writes files into folder and returns the record) and kept."""
    with _LOCK:
        cache = config.cache_dir()
        folder = cache / f"{name}-{key}"
        record = _whole(folder, files)
        if record is not None:
            return folder, record
        try:
            cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
            staging.chmod(0o755)  # mkdtemp makes it for its owner only
        except OSError as error:
            log.warning("cannot keep the %s export in %s (%s): exporting for this process only; set QA_CACHE_DIR "
                        "to a folder that can be written", name, cache, error)
            return _scratch(name, make)
        try:
            record = make(staging)
            hashes = {file: _sha256(staging / file) for file in files}
            (staging / ENTRY).write_text(json.dumps({"record": record, "sha256": hashes}), encoding="utf-8")
            if folder.exists():  # damaged: made again
                shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)  # atomic; fails if another process just put a whole entry there
        except OSError:
            if _whole(folder, files) is None:
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("kept the %s export in %s", name, folder)
        return folder, _whole(folder, files)


def _whole(folder: Path, files: tuple[str, ...]) -> dict | None:
    """The record of the entry in folder if every one of its files has the SHA-256 it was kept with, else None."""
    try:
        entry = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
        if all(_sha256(folder / file) == entry["sha256"][file] for file in files):
            return entry["record"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _scratch(name: str, make: Callable[[Path], dict]) -> tuple[Path, dict]:
    if not _SCRATCH:
        _SCRATCH.append(tempfile.TemporaryDirectory(prefix="qa-exports-"))
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_SCRATCH[0].name))
    return folder, make(folder)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "not installed"
