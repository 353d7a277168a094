"""Build, update, save and load the index: FAISS vectors, BM25 keywords, chunks and a manifest.

The only module that imports faiss and writes to the index folder. Each build writes a complete
new generation folder and then atomically repoints the CURRENT file at it, so a crash mid-build
leaves the previous index in place and readers never see a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.chunks import Chunk, ChunkSettings, chunk_document, searchable_text
from qa.documents import Document, Skipped, read_corpus
from qa.errors import IndexCorrupt, IndexNotFound, ModelMismatch
from qa.probes import OFF_TOPIC_PROBES
from qa.vectors import Embedder

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
POINTER = "CURRENT"
FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "dense.faiss", "keywords")
KEEP_GENERATIONS = 2  # the current one and the one before, which a reader may still be opening


@dataclass(frozen=True)
class BuildReport:
    """What a build changed."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    chunks: int = 0
    embedded: int = 0  # chunks whose text was new and went through the model
    seconds: float = 0.0
    path: str = ""
    note: str = ""  # e.g. why every vector was re-embedded

    def summary(self) -> str:
        lines = [
            f"documents: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged",
            f"chunks: {self.chunks} in the index, {self.embedded} embedded ({self.seconds:.1f}s)",
        ]
        lines += [f"  + {doc_id}" for doc_id in self.added]
        lines += [f"  ~ {doc_id}" for doc_id in self.changed]
        lines += [f"  - {doc_id}" for doc_id in self.removed]
        lines += [f"skipped {item.reason}" for item in self.skipped]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


@dataclass
class Index:
    """A loaded index: documents, chunks, their vectors and keyword statistics."""

    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: object  # faiss.Index over unit vectors: inner product is cosine similarity
    keywords: object  # bm25s.BM25 over the same chunks, same order
    embedder: Embedder = field(repr=False)

    @classmethod
    def load(cls, index_dir: Path, *, embedder: Embedder | None = None) -> Index:
        """Load the current generation under index_dir, checking that its files agree."""
        folder = current_generation(index_dir)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            documents = [Document(**row) for row in _read_jsonl(folder / "documents.jsonl")]
            chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        except (OSError, ValueError, TypeError) as error:
            raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
        if manifest.get("format") != FORMAT_VERSION:
            raise ModelMismatch(f"The index in {index_dir} has an older format; rebuild it with 'qa index'")
        embedder = embedder or Embedder(manifest["model"])
        if embedder.name != manifest["model"]:
            raise ModelMismatch(
                f"The index in {index_dir} was built with {manifest['model']!r}, not {embedder.name!r}; "
                f"rebuild it with 'qa index' or set QA_MODEL={manifest['model']}"
            )
        dense, keywords = _read_searchers(folder)
        if dense.ntotal != len(chunks) or dense.d != manifest["dimension"]:
            raise IndexCorrupt(f"The index in {folder} has {dense.ntotal} vectors for {len(chunks)} chunks; rebuild it with 'qa index'")
        return cls(folder, manifest, {d.doc_id: d for d in documents}, chunks, dense, keywords, embedder)

    def dense_scores(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The n chunks nearest to a unit query vector, as (chunk number, cosine), best first."""
        scores, ids = self.dense.search(vector.reshape(1, -1), min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for query (zero where no query word occurs)."""
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False)
        return self.keywords.get_scores(tokens[0])

    def vectors(self, ids: list[int]) -> np.ndarray:
        import numpy as np

        return np.vstack([self.dense.reconstruct(i) for i in ids]) if ids else np.zeros((0, self.dense.d), "float32")


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    embedder: Embedder | None = None,
    settings: ChunkSettings = ChunkSettings(),
    progress: bool = False,
) -> BuildReport:
    """Build or update the index of corpus_dir in index_dir, embedding only chunks whose text is new."""
    started = time.perf_counter()
    embedder = embedder or Embedder()
    documents, skipped = read_corpus(corpus_dir)
    previous = _previous_manifest(index_dir)
    old_docs = previous.get("documents", {})
    new_docs = {d.doc_id: d.sha256 for d in documents}
    chunks = [chunk for document in documents for chunk in chunk_document(document, settings)]
    by_id = {d.doc_id: d for d in documents}
    texts = [searchable_text(chunk, by_id[chunk.doc_id]) for chunk in chunks]
    keys = [_key(embedder.name, text) for text in texts]

    reused, note = _reusable_vectors(index_dir, previous, embedder, set(keys))
    missing = [i for i, key in enumerate(keys) if key not in reused]
    log.info("embedding %d of %d chunks", len(missing), len(chunks))
    fresh = embedder.embed([texts[i] for i in missing], progress=progress)
    import numpy as np

    matrix = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
    for row, i in enumerate(missing):
        matrix[i] = fresh[row]
    for i, key in enumerate(keys):
        if key in reused:
            matrix[i] = reused[key]
    probe_vectors = embedder.embed(list(OFF_TOPIC_PROBES))

    manifest = {
        "format": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunker": asdict(settings),
        "documents": {d.doc_id: {"sha256": d.sha256, "title": d.title, "date": d.date} for d in documents},
        "chunks": len(chunks),
        "keys": keys,
        "probe_scores": _best_scores(matrix, probe_vectors),
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    folder = _write_generation(index_dir, manifest, documents, chunks, matrix, texts)
    return BuildReport(
        added=tuple(sorted(set(new_docs) - set(old_docs))),
        changed=tuple(sorted(d for d in new_docs if d in old_docs and old_docs[d]["sha256"] != new_docs[d])),
        removed=tuple(sorted(set(old_docs) - set(new_docs))),
        unchanged=tuple(sorted(d for d in new_docs if d in old_docs and old_docs[d]["sha256"] == new_docs[d])),
        skipped=tuple(skipped),
        chunks=len(chunks),
        embedded=len(missing),
        seconds=time.perf_counter() - started,
        path=str(folder),
        note=note,
    )


def is_stale(corpus_dir: Path, index_dir: Path) -> bool:
    """Does the corpus hold documents other than the ones the current index was built from?"""
    manifest = _previous_manifest(index_dir)
    if not manifest:
        return True
    indexed = {doc_id: row["sha256"] for doc_id, row in manifest.get("documents", {}).items()}
    documents, _ = read_corpus(corpus_dir)
    return indexed != {d.doc_id: d.sha256 for d in documents}


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


def _write_generation(index_dir, manifest, documents, chunks, matrix, texts) -> Path:
    import bm25s
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    try:
        dense = faiss.IndexFlatIP(matrix.shape[1])
        dense.add(matrix)
        faiss.write_index(dense, str(staging / "dense.faiss"))
        keywords = bm25s.BM25()
        keywords.index(bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False), show_progress=False)
        keywords.save(str(staging / "keywords"), show_progress=False)
        _write_jsonl(staging / "documents.jsonl", (asdict(d) for d in documents))
        _write_jsonl(staging / "chunks.jsonl", (asdict(c) for c in chunks))
        # the manifest goes last: a folder without one was never finished
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
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


def _reusable_vectors(index_dir: Path, previous: dict, embedder: Embedder, wanted: set[str]) -> tuple[dict, str]:
    """Vectors of the previous generation, by key, where the same model made them."""
    if not previous:
        return {}, ""
    if previous.get("model") != embedder.name or previous.get("format") != FORMAT_VERSION:
        return {}, f"the previous index used model {previous.get('model')!r}: every chunk was re-embedded"
    try:
        dense, _ = _read_searchers(current_generation(index_dir), keywords=False)
    except (IndexNotFound, IndexCorrupt, RuntimeError) as error:
        return {}, f"the previous index could not be read ({error}): every chunk was re-embedded"
    keys = previous.get("keys", [])
    if dense.ntotal != len(keys):
        return {}, "the previous index was inconsistent: every chunk was re-embedded"
    return {key: dense.reconstruct(i) for i, key in enumerate(keys) if key in wanted}, ""


def _previous_manifest(index_dir: Path) -> dict:
    try:
        return json.loads((current_generation(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (IndexNotFound, IndexCorrupt, OSError, ValueError):
        return {}


def _read_searchers(folder: Path, keywords: bool = True):
    import bm25s
    import faiss

    try:
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "keywords"), mmap=False, show_progress=False) if keywords else None
    except (RuntimeError, OSError, ValueError) as error:
        raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
    return dense, bm25


def _best_scores(matrix: np.ndarray, queries: np.ndarray) -> list[float]:
    """For each query vector, its highest cosine with any chunk."""
    if len(matrix) == 0:
        return []
    return [round(float(s), 4) for s in (queries @ matrix.T).max(axis=1)]


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:24]


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            _fsync_file(path)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep)
    for old in generations[: max(0, len(generations) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob(".building-*"):
        if time.time() - stale.stat().st_mtime > 3600:  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)


_OPEN: dict[tuple[Path, Path, str], Index] = {}


def open_index(corpus_dir: Path, index_dir: Path, model: str) -> Index:
    """The index of corpus_dir, built first if it is missing or the corpus changed; loaded once per process."""
    key = (corpus_dir.resolve(), index_dir.resolve(), model)
    if key not in _OPEN:
        embedder = Embedder(model)
        if is_stale(corpus_dir, index_dir) or _previous_manifest(index_dir).get("model") != model:
            log.info("building the index of %s in %s", corpus_dir, index_dir)
            build_index(corpus_dir, index_dir, embedder=embedder)
        _OPEN[key] = Index.load(index_dir, embedder=embedder)
    return _OPEN[key]
