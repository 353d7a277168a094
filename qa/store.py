"""Keep an index folder: complete generations switched in atomically, a manifest with every file's hash, a
build lock. It reads and writes whatever files a generation holds and knows nothing of what they mean.

Each build writes a complete new generation folder and then atomically repoints the CURRENT file at it, so a
crash mid-build leaves the previous index in place and readers never see a half-written one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.errors import IndexCorrupt, IndexNotFound

log = logging.getLogger(__name__)

FORMAT_VERSION = 9  # raise when the files change: an older index is then rebuilt, never misread (9: 第2回 and 5月
# in the English words of Japanese passages, text.in_english)
POINTER = "CURRENT"
LOCK = "LOCK"  # held while a build runs, so two builds of one index folder never interleave
KEEP_GENERATIONS = 2  # the current one and the one before, which a reader may still be opening
MANIFEST = "manifest.json"


def write_generation(index_dir: Path, manifest: dict, files: dict[str, object]) -> Path:
    """Write a complete generation folder of files ({name: content}, see _write), then point CURRENT at it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    try:
        for name, content in files.items():
            _write(staging / name, content)
        # the manifest goes last, with the size and hash of every other file: a folder without one was
        # never finished, and a file that differs from it was damaged afterwards
        manifest = manifest | {"format": FORMAT_VERSION, "files": _describe_files(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _fsync_tree(staging)
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}"
        folder = index_dir / name
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".{POINTER}.{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    _fsync_file(pointer_tmp)
    os.replace(pointer_tmp, index_dir / POINTER)  # the switch: atomic on POSIX
    _remove_old_generations(index_dir, keep=name)
    return folder


def _write(path: Path, content: object) -> None:
    """One file by its name: .faiss a FAISS index, .npy an array, .jsonl rows, .json a value, else a bm25s index;
    or, whatever its name, a Path: that file as it is, hard-linked if it is another generation's of this index."""
    import faiss

    if isinstance(content, Path):
        _place(path, content)
    elif path.suffix == ".faiss":
        faiss.write_index(content, str(path))
    elif path.suffix == ".npy":
        np.save(path, content)
    elif path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as out:
            for row in content:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif path.suffix == ".json":
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    else:
        content.save(str(path), show_progress=False)


def _place(path: Path, source: Path) -> None:
    """A file that stays the same from build to build (the question encoder, 90 MB) is linked from the previous
    generation: no time, no space. Any other is copied, so that no file outside the index shares its bytes."""
    if source.resolve().parent.parent == path.resolve().parent.parent:  # both folders are in index_dir
        with contextlib.suppress(OSError):  # a file system without hard links
            os.link(source, path)
            return
    shutil.copyfile(source, path)


def read_manifest(index_dir: Path) -> tuple[Path, dict]:
    """The current generation's folder and manifest, its format checked (raises IndexNotFound, IndexCorrupt)."""
    folder = current_generation(index_dir)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
    return folder, manifest


def read_files(folder: Path, manifest: dict, names: list[str]) -> dict[str, object]:
    """The named files of a generation, each checked against its manifest entry first (see _read)."""
    _check_files(folder, manifest)
    try:
        return {name: _read(folder / name) for name in names}
    except (RuntimeError, OSError, ValueError, TypeError, KeyError) as error:
        raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error


def _read(path: Path) -> object:
    import bm25s
    import faiss

    if path.suffix == ".faiss":
        return faiss.read_index(str(path))
    if path.suffix == ".npy":
        return np.load(path)  # allow_pickle stays off: nothing read back is unpickled
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return bm25s.BM25.load(str(path), mmap=False, show_progress=False)


def hashes(manifest: dict, names: tuple[str, ...]) -> tuple[str | None, ...]:
    """The SHA-256 the manifest records for each named file (None where it lists none)."""
    return tuple(manifest.get("files", {}).get(name, {}).get("sha256") for name in names)


def previous_manifest(index_dir: Path) -> dict:
    """The current generation's manifest, or {} when there is none that can be read."""
    try:
        return read_manifest(index_dir)[1]
    except (IndexNotFound, IndexCorrupt):
        return {}


def current_generation(index_dir: Path) -> Path:
    """The folder the CURRENT pointer names."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"No index in {index_dir} - run 'qa index' first") from None
    folder = index_dir / name
    if not name or "/" in name or not folder.is_dir():
        raise IndexCorrupt(f"{pointer} names a missing index folder {name!r}; rebuild it with 'qa index'")
    return folder


def pointer(index_dir: Path) -> str:
    """The generation CURRENT names now, or "" if it cannot be read."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def build_lock(index_dir: Path):
    """Hold index_dir/LOCK for the length of a build. The kernel releases it if the build is killed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _remove_leftovers(index_dir)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(index_dir: Path) -> None:
    """Staging folders and pointer drafts of builds that were killed: with the lock held, no build owns them."""
    for stale in index_dir.glob(".building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for draft in index_dir.glob(f".{POINTER}.*"):
        draft.unlink(missing_ok=True)


def _describe_files(folder: Path) -> dict[str, dict]:
    """{path relative to folder: {"bytes": size, "sha256": hash}} of every file below folder."""
    return {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _check_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists is there, whole and unchanged; raise IndexCorrupt naming the first that is not."""
    expected = manifest.get("files")
    if not expected:
        raise IndexCorrupt(f"The index in {folder} lists no files; rebuild it with 'qa index'")
    for name, about in expected.items():
        path = folder / name
        try:
            intact = path.stat().st_size == about["bytes"] and _sha256(path) == about["sha256"]
        except OSError:
            raise IndexCorrupt(f"The index in {folder} is missing {name}; rebuild it with 'qa index'") from None
        if not intact:
            raise IndexCorrupt(f"The index file {path} was changed or cut short since it was written; "
                               "rebuild it with 'qa index'")


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            _fsync_file(path)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    generations = sorted((p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep),
                         key=lambda p: p.stat().st_mtime)  # oldest first, even for two builds in one second
    for old in generations[: max(0, len(generations) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
