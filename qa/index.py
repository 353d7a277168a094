"""Build, update, save and load the index: FAISS vectors, BM25 keywords, chunks and a manifest.

The only module that imports faiss and writes to the index folder. Each build writes a complete
new generation folder and then atomically repoints the CURRENT file at it, so a crash mid-build
leaves the previous index in place and readers never see a half-written one.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa.chunks import (
    CHUNKER_VERSION,
    Chunk,
    ChunkSettings,
    chunk_document,
    searchable_text,
    sentence_in_context,
    sentence_spans,
)
from qa.documents import METADATA_KEYS, Document, Skipped, read_corpus
from qa.errors import EmptyCorpus, IndexCorrupt, IndexNotFound, ModelMismatch, QAError
from qa.probes import OFF_TOPIC_PROBES
from qa.vectors import Embedder

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # raise when the files change: an older index is then rebuilt, never misread
POINTER = "CURRENT"
LOCK = "LOCK"  # held while a build runs, so two builds of one index folder never interleave
STOPWORDS = "en_plus"  # NLTK's English list: unlike bm25s's default ("en") it drops who/which/how/when
KEEP_GENERATIONS = 2  # the current one and the one before, which a reader may still be opening
# Above this many chunks the chunk and sentence vectors are searched approximately (HNSW). An exact
# search reads every vector (measured: 39 ms for 100,000 chunk vectors on two cores) and the sentence
# index holds two or three rows per chunk, so past about 20,000 chunks exact search costs more than
# embedding the question (~10 ms); HNSW took 0.8 ms at 100,000 with recall@10 0.955 (python -m bench).
ANN_THRESHOLD = 20_000
HNSW_M = 32  # graph neighbours per vector: more is better recall, more memory and a slower build
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # candidates kept while searching; at least retrieve's 60, stored in the file


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
    dense: object  # faiss index of chunk vectors (with their context); inner product on unit vectors is cosine
    sentences: object  # faiss index of the chunks' sentences, in chunk order
    sentence_start: np.ndarray  # chunk i's sentences are rows sentence_start[i]:sentence_start[i + 1]
    keywords: object  # bm25s.BM25 over the same chunks, same order
    in_context: np.ndarray = field(repr=False)  # the sentences again, each after its title and heading (float16)
    titles: dict[str, np.ndarray] = field(repr=False)  # vector of each document's title, by doc_id
    embedder: Embedder = field(repr=False)

    @classmethod
    def load(cls, index_dir: Path, *, embedder: Embedder | None = None) -> Index:
        """Load the current generation under index_dir, checking that its files agree."""
        folder = current_generation(index_dir)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
        if manifest.get("format") != FORMAT_VERSION:
            raise ModelMismatch(f"The index in {index_dir} has another format; rebuild it with 'qa index'")
        if manifest.get("chunker_version") != CHUNKER_VERSION:
            raise ModelMismatch(f"The index in {index_dir} was cut into passages by another version of the "
                                "chunker; rebuild it with 'qa index'")
        _check_files(folder, manifest)
        try:
            rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
            documents = [Document(**row) for row in _read_jsonl(folder / "documents.jsonl")]
            chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
        embedder = embedder or Embedder(manifest["model"])
        if embedder.name != manifest["model"]:
            raise ModelMismatch(
                f"The index in {index_dir} was built with {manifest['model']!r}, not {embedder.name!r}; "
                f"rebuild it with 'qa index' or set QA_MODEL={manifest['model']}"
            )
        dense, sentences, keywords = _read_searchers(folder)
        in_context, titles = _read_arrays(folder)
        sentence_start = np.asarray(rows.get("sentence_start", []), dtype=np.int64)
        if (
            len(in_context) != sentences.ntotal
            or len(titles) != len(documents)
            or dense.ntotal != len(chunks)
            or dense.d != manifest["dimension"]
            or len(sentence_start) != len(chunks) + 1
            or sentences.ntotal != sentence_start[-1]
        ):
            raise IndexCorrupt(f"The files of the index in {folder} disagree; rebuild it with 'qa index'")
        return cls(folder, manifest, {d.doc_id: d for d in documents}, chunks, dense, sentences, sentence_start,
                   keywords, in_context, {d.doc_id: v for d, v in zip(documents, titles)}, embedder)

    def dense_scores(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """The n chunks nearest to a unit query vector: {chunk number: cosine}."""
        scores, ids = self.dense.search(vector.reshape(1, -1), min(n, len(self.chunks)))
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def sentence_scores(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """The chunks holding the n sentences nearest to the query: {chunk number: best sentence cosine}."""
        scores, rows = self.sentences.search(vector.reshape(1, -1), min(n, self.sentences.ntotal))
        found = rows[0] >= 0
        return self._best_by_chunk(rows[0][found], scores[0][found])

    def _best_by_chunk(self, rows: np.ndarray, scores: np.ndarray) -> dict[int, float]:
        """{chunk number: score} of sentence rows, best first, keeping each chunk's first (best) score."""
        best: dict[int, float] = {}
        for chunk, score in zip((np.searchsorted(self.sentence_start, rows, side="right") - 1).tolist(), scores.tolist()):
            best.setdefault(chunk, score)
        return best

    def keyword_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for query (zero where no query word occurs, and everywhere for a query
        of stop words only, which bm25s cannot score)."""
        words = tokens(query)
        return self.keywords.get_scores(words) if words else np.zeros(len(self.chunks))

    def idf(self, terms: frozenset[str]) -> dict[str, float]:
        """How rare each term is in this corpus (BM25's IDF)."""
        return idf(self.keywords, terms)

    def evidence(self, vector: np.ndarray, terms: frozenset[str]) -> float:
        """How much the corpus has to say about a question; see evidence()."""
        return evidence(self.dense, self.sentences, self.keywords, vector, terms)

    def mentions(self, word: str) -> bool:
        """Does some chunk hold word, as the keyword index sees it (stemmed: "Councils" is "council"), or
        the place a word for its people names ("Canadian": "Canada"), or, for an acronym, the words it
        stands for ("GDP": "gross domestic product")? A stop word counts as held."""
        if all(len(_chunks_with(self.keywords, term)) for term in query_terms(word)):
            return True
        if any(terms and all(len(_chunks_with(self.keywords, term)) for term in terms)
               for terms in map(query_terms, places(word))):
            return True
        if not (word.isalpha() and word.isupper() and 2 <= len(word) <= 6):
            return False
        small = r"(?:of|and|for|the|with|on|in|to|a|an)\b"
        spelled = re.compile(r"\b" + rf"\W+(?:{small}\W+)?".join(rf"(?!{small}){letter}\w+" for letter in word),
                             re.IGNORECASE)
        return any(spelled.search(document.text) for document in self.documents.values())

    def vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of chunks ids (with their context)."""
        if not ids:
            return np.zeros((0, self.dense.d), "float32")
        return self.dense.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def sentence_cosines(self, chunks: list[int], vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The question against every sentence of the given chunks, chunk after chunk, alone and in context
        (chunks.sentence_in_context), read at once; and where each chunk's sentences start in them
        (chunk j's are [start[j]:start[j + 1]])."""
        chunks = np.asarray(chunks, dtype=np.int64)
        counts = self.sentence_start[chunks + 1] - self.sentence_start[chunks]
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        rows = np.repeat(self.sentence_start[chunks] - start[:-1], counts) + np.arange(start[-1])
        if not len(rows):
            return np.zeros(0, np.float32), np.zeros(0, np.float32), start
        return self.sentences.reconstruct_batch(rows) @ vector, self.in_context[rows].astype(np.float32) @ vector, start

    # The same searches among some chunks only (a filter's): see search_among() for how they stay exact.

    def dense_scores_among(self, vector: np.ndarray, n: int, chunks: np.ndarray) -> dict[int, float]:
        """dense_scores() among the given chunk numbers only."""
        scores, ids = search_among(self.dense, vector, n, chunks)
        return {int(i): float(s) for i, s in zip(ids, scores)}

    def sentence_scores_among(self, vector: np.ndarray, n: int, chunks: np.ndarray) -> dict[int, float]:
        """sentence_scores() among the sentences of the given chunk numbers only."""
        scores, rows = search_among(self.sentences, vector, n, self.sentence_rows(chunks))
        return self._best_by_chunk(np.asarray(rows), np.asarray(scores))

    def evidence_among(self, vector: np.ndarray, terms: frozenset[str], chunks: np.ndarray) -> float:
        """evidence() counting the given chunk numbers only: what a filtered search has to go on."""
        nearest = [search_among(self.dense, vector, 1, chunks)[0],
                   search_among(self.sentences, vector, 1, self.sentence_rows(chunks))[0]]
        cosine = max((float(scores[0]) for scores in nearest if len(scores)), default=0.0)
        return cosine + coverage(self.keywords, terms, chunks)

    def sentence_rows(self, chunks: np.ndarray) -> np.ndarray:
        """The rows of the sentence index that hold the given chunks' sentences."""
        wanted = np.zeros(len(self.chunks), dtype=bool)
        wanted[chunks] = True
        return np.flatnonzero(np.repeat(wanted, np.diff(self.sentence_start)))


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    embedder: Embedder | None = None,
    settings: ChunkSettings = ChunkSettings(),
    progress: bool = False,
) -> BuildReport:
    """Build or update the index of corpus_dir in index_dir, embedding only texts that are new.

    One build at a time per index folder: a second waits for the first, then reuses its vectors.
    """
    with _build_lock(index_dir):
        return _build(corpus_dir, index_dir, embedder or Embedder(), settings, progress)


def _build(corpus_dir: Path, index_dir: Path, embedder: Embedder, settings: ChunkSettings, progress: bool) -> BuildReport:
    started = time.perf_counter()
    documents, skipped = read_corpus(corpus_dir)
    if not documents:
        reasons = "".join(f"\n  skipped {item.reason}" for item in skipped)
        raise EmptyCorpus(
            f"No readable document in {corpus_dir}; add .txt, .md, .html or .pdf files "
            f"(or set QA_CORPUS_DIR to the right folder).{reasons}"
        )
    previous = _previous_manifest(index_dir)
    old_docs = previous.get("documents", {})
    new_docs = {d.doc_id: record(d) for d in documents}
    chunks = [chunk for document in documents for chunk in chunk_document(document, settings)]
    by_id = {d.doc_id: d for d in documents}
    texts = [searchable_text(chunk, by_id[chunk.doc_id]) for chunk in chunks]
    sentences = [[chunk.text[s:e] for s, e in sentence_spans(chunk.text)] for chunk in chunks]
    contexts = [sentence_in_context(text, chunk, by_id[chunk.doc_id]) for chunk, parts in zip(chunks, sentences)
                for text in parts]
    sentence_start = [0]
    for parts in sentences:
        sentence_start.append(sentence_start[-1] + len(parts))
    rows = {
        "chunks": [_key(embedder.name, text) for text in texts],
        "sentences": [_key(embedder.name, text) for parts in sentences for text in parts],
        "sentence_start": sentence_start,
        "contexts": [_key(embedder.name, text) for text in contexts],
        "titles": [_key(embedder.name, d.title) for d in documents],
    }
    old, note = _previous_vectors(index_dir, previous, embedder)
    chunk_vectors, embedded = _embed_new(embedder, texts, rows["chunks"], old, progress)
    flat = [text for parts in sentences for text in parts]
    # the short texts in one call: the model sorts a call's texts by length, so one call pads less than three
    # (measured: 25% faster on the bundled corpus)
    rest, _ = _embed_new(embedder, flat + contexts + [d.title for d in documents],
                         rows["sentences"] + rows["contexts"] + rows["titles"], old, progress)
    sentence_vectors, in_context, titles = np.split(rest, [len(flat), len(flat) + len(contexts)])
    searchers = _make_searchers(chunk_vectors, sentence_vectors, texts)
    manifest = describe(embedder, settings, documents, len(chunks), len(flat), searchers)
    folder = _write_generation(index_dir, manifest, rows, documents, chunks, searchers, (in_context, titles))
    return BuildReport(
        added=tuple(sorted(set(new_docs) - set(old_docs))),
        changed=tuple(sorted(d for d in new_docs if d in old_docs and old_docs[d] != new_docs[d])),
        removed=tuple(sorted(set(old_docs) - set(new_docs))),
        unchanged=tuple(sorted(d for d in new_docs if d in old_docs and old_docs[d] == new_docs[d])),
        skipped=tuple(skipped),
        chunks=len(chunks),
        embedded=embedded,
        seconds=time.perf_counter() - started,
        path=str(folder),
        note=note,
    )


def describe(embedder: Embedder, settings: ChunkSettings, documents: list[Document], chunks: int, sentences: int,
             searchers, built: str = "") -> dict:
    """The manifest of a new index: how it was made, of what, and the abstention calibration."""
    probe_vectors = embedder.embed(list(OFF_TOPIC_PROBES))
    return {
        "format": FORMAT_VERSION,
        "model": embedder.name,
        "precision": embedder.precision,
        "dimension": embedder.dimension,
        "chunker": asdict(settings),
        "chunker_version": CHUNKER_VERSION,
        "documents": {d.doc_id: record(d) for d in documents},
        "chunks": chunks,
        "sentences": sentences,
        # how much evidence everyday off-topic questions find in this corpus; answer() abstains below it
        "probe_scores": [
            round(evidence(*searchers, vector, query_terms(probe)), 4)
            for probe, vector in zip(OFF_TOPIC_PROBES, probe_vectors)
        ],
        "built": built or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _embed_new(embedder: Embedder, texts: list[str], keys: list[str], old: dict, progress: bool):
    """Vectors for texts, reusing the previous generation's where the key (model + text) is the same."""
    missing = [i for i, key in enumerate(keys) if key not in old]
    log.info("embedding %d of %d texts", len(missing), len(texts))
    fresh = embedder.embed([texts[i] for i in missing], progress=progress)
    matrix = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in old:
            matrix[i] = old[key]
    if missing:
        matrix[missing] = fresh
    return matrix, len(missing)


def is_stale(corpus_dir: Path, index_dir: Path) -> bool:
    """Is there no usable index of this corpus: none, an older format, or other documents than the corpus holds?"""
    manifest = _previous_manifest(index_dir)
    if manifest.get("format") != FORMAT_VERSION or manifest.get("chunker_version") != CHUNKER_VERSION:
        return True
    documents, _ = read_corpus(corpus_dir)
    return manifest.get("documents") != {d.doc_id: record(d) for d in documents}


def record(document: Document) -> dict[str, str]:
    """What the index notes of a document to notice a change: its file's hash and its metadata, which may
    also change without the file (a metadata table beside it)."""
    return {"sha256": document.sha256} | {key: getattr(document, key) for key in METADATA_KEYS}


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


def flat_index(vectors: np.ndarray):
    """An exact FAISS inner-product index of unit vectors (cosine similarity)."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat


def ann_index(vectors: np.ndarray):
    """An approximate (HNSW) FAISS inner-product index of unit vectors: fast, nearly always the exact top results.

    IndexHNSWFlat keeps the vectors themselves, so reconstruct() and reconstruct_n() work as on a flat index.
    """
    import faiss

    ann = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    ann.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    ann.hnsw.efSearch = HNSW_EF_SEARCH
    ann.add(vectors)
    return ann


def vector_index(vectors: np.ndarray, chunks: int):
    """The index the chunk and sentence vectors are searched with: exact up to ANN_THRESHOLD chunks, HNSW above."""
    return ann_index(vectors) if chunks > ANN_THRESHOLD else flat_index(vectors)


def _make_searchers(chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, texts: list[str]):
    chunks = len(chunk_vectors)
    return vector_index(chunk_vectors, chunks), vector_index(sentence_vectors, chunks), keyword_index(texts)


def keyword_index(texts: list[str], *, stem: bool = True, stopwords: str = STOPWORDS):
    """A BM25 index (bm25s) of texts, English stop words removed and, by default, words stemmed."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every build
    keywords = bm25s.BM25()
    stemmer = _stemmer() if stem else None
    keywords.index(bm25s.tokenize(texts, stopwords=stopwords, stemmer=stemmer, show_progress=False), show_progress=False)
    return keywords


def _write_generation(index_dir, manifest, rows, documents, chunks, searchers, arrays) -> Path:
    """Write a complete generation folder, then point CURRENT at it. arrays: the in-context sentence
    vectors and the title vectors, stored, not searched, as float16: half the space, and cosines move by
    0.0001 on average, 0.0015 at most (grown corpus, 8 questions x 427 sentences)."""
    import faiss

    dense, sentences, keywords = searchers
    in_context, titles = arrays
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    try:
        faiss.write_index(dense, str(staging / "dense.faiss"))
        faiss.write_index(sentences, str(staging / "sentences.faiss"))
        keywords.save(str(staging / "keywords"), show_progress=False)
        np.save(staging / "in_context.npy", np.asarray(in_context, dtype=np.float16))
        np.save(staging / "titles.npy", np.asarray(titles, dtype=np.float16))
        _write_jsonl(staging / "documents.jsonl", (asdict(d) for d in documents))
        _write_jsonl(staging / "chunks.jsonl", (asdict(c) for c in chunks))
        (staging / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        # the manifest goes last, with the size and hash of every other file: a folder without one was
        # never finished, and a file that differs from it was damaged afterwards
        manifest = manifest | {"files": _describe_files(staging)}
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


def _previous_vectors(index_dir: Path, previous: dict, embedder: Embedder) -> tuple[dict, str]:
    """Chunk and sentence vectors of the current generation, by key, where the same model made them."""
    if not previous:
        return {}, ""
    made_by = (previous.get("model"), previous.get("precision"), previous.get("format"))
    if made_by != (embedder.name, embedder.precision, FORMAT_VERSION):
        # vectors of two models, or two precisions, are never mixed in one index
        return {}, (f"the previous index was made by {previous.get('model')!r} in {previous.get('precision')}: "
                    "everything was re-embedded")
    try:
        folder = current_generation(index_dir)
        rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        dense, sentences, _ = _read_searchers(folder, keywords=False)
        in_context, titles = _read_arrays(folder)
    except (IndexNotFound, IndexCorrupt, OSError, ValueError) as error:
        return {}, f"the previous index could not be read ({error}): everything was re-embedded"
    if (dense.ntotal, sentences.ntotal, len(in_context), len(titles)) != tuple(
        len(rows.get(name, [])) for name in ("chunks", "sentences", "contexts", "titles")
    ):
        return {}, "the previous index was inconsistent: everything was re-embedded"
    old = dict(zip(rows["chunks"], dense.reconstruct_n(0, dense.ntotal)))
    old.update(zip(rows["sentences"], sentences.reconstruct_n(0, sentences.ntotal)))
    old.update(zip(rows["contexts"], in_context.astype(np.float32)))
    old.update(zip(rows["titles"], titles.astype(np.float32)))
    return old, ""


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


@contextlib.contextmanager
def _build_lock(index_dir: Path):
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
        sentences = faiss.read_index(str(folder / "sentences.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "keywords"), mmap=False, show_progress=False) if keywords else None
    except (RuntimeError, OSError, ValueError) as error:
        raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
    return dense, sentences, bm25


def _read_arrays(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The in-context sentence vectors and the title vectors of a generation (see _write_generation)."""
    try:
        return np.load(folder / "in_context.npy"), np.load(folder / "titles.npy")
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error


def evidence(dense, sentences, keywords, vector: np.ndarray, terms: frozenset[str]) -> float:
    """How much the corpus has to say about a question: the best cosine of any chunk or sentence,
    plus the largest share of the question's terms, weighted by rarity (IDF), that one chunk holds.

    The keyword half catches names the embedding model does not know ("Where does Maslow teach?");
    the dense half catches paraphrases. Off-topic questions score low on both.
    """
    best = max((float(index.search(vector.reshape(1, -1), 1)[0][0][0]) for index in (dense, sentences) if index.ntotal),
               default=0.0)
    return best + coverage(keywords, terms)


def coverage(keywords, terms: frozenset[str], chunks: np.ndarray | None = None) -> float:
    """The largest IDF-weighted share of terms found together in one chunk (0 to 1), among the given chunk
    numbers only if chunks is given."""
    weights = idf(keywords, terms)
    total = sum(weights.values())
    if not total or (chunks is not None and not len(chunks)):
        return 0.0
    found = np.zeros(keywords.scores["num_docs"])
    for term, weight in weights.items():
        found[_chunks_with(keywords, term)] += weight
    return float((found if chunks is None else found[chunks]).max() / total)


def search_among(searcher, vector: np.ndarray, n: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The n rows of a FAISS index nearest to a unit vector, among the given row numbers only: (cosines, rows),
    best first. Exact, so a narrow filter finds its best rows however far down the whole index ranks them.

    A flat index applies FAISS's ID selector as it scans every row: exact, for the cost of an unfiltered search.
    HNSW applies it only to the rows its graph walk happens to meet, so a narrow selection comes back short or
    wrong (faiss issue #3186; checked here). There, up to ANN_THRESHOLD rows are scored directly, which is exact
    and costs no more than the exact search used below that size; a larger selection is walked with efSearch
    raised by the share of rows it leaves out, so the walk meets as many allowed rows as it would meet rows.
    """
    import faiss

    rows = np.asarray(rows, dtype=np.int64)
    n = min(n, len(rows))
    if n < 1:
        return np.zeros(0, dtype=np.float32), rows[:0]
    hnsw = isinstance(searcher, faiss.IndexHNSW)
    if hnsw and len(rows) <= ANN_THRESHOLD:
        cosines = searcher.reconstruct_batch(rows) @ vector
        best = np.argsort(-cosines, kind="stable")[:n]
        return cosines[best], rows[best]
    selector = faiss.IDSelectorBatch(rows)  # held here until the search is done: the parameters only point to it
    if hnsw:
        widen = -(-searcher.ntotal // len(rows))  # ceiling of total rows / allowed rows
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(searcher.hnsw.efSearch, n) * widen)
    else:
        params = faiss.SearchParameters(sel=selector)
    scores, ids = searcher.search(vector.reshape(1, -1), n, params=params)
    found = ids[0] >= 0
    return scores[0][found], ids[0][found]


def idf(keywords, terms: frozenset[str]) -> dict[str, float]:
    """BM25's inverse document frequency of each term; a term no chunk holds gets the highest.

    In sorted order: a set's order changes with each process's string hashing, and sums over these
    weights (coverage) would then differ in their last bit from one run to the next.
    """
    n = keywords.scores["num_docs"]
    held = {term: len(_chunks_with(keywords, term)) for term in sorted(terms)}
    return {term: float(np.log(1 + (n - count + 0.5) / (count + 0.5))) for term, count in held.items()}


DEMONYM_ENDINGS = ("ian", "ean", "ese", "an", "ish", "i")  # Canadian, Korean, Japanese, European, Iraqi


def places(word: str) -> list[str]:
    """The places a word for a people may name: the word less its ending, alone and with an "a"
    ("Canadian": "Canad", "Canada"; "European": "Europe", "Europea"). None for a word without such an
    ending, or with fewer than four letters before it."""
    stems = [word[: -len(ending)] for ending in DEMONYM_ENDINGS
             if word.lower().endswith(ending) and len(word) - len(ending) >= 4]
    return [form for stem in stems for form in (stem, stem + "a")]


def _chunks_with(keywords, term: str) -> np.ndarray:
    token = keywords.vocab_dict.get(term)
    indptr, indices = keywords.scores["indptr"], keywords.scores["indices"]
    return indices[indptr[token] : indptr[token + 1]] if token is not None else indices[:0]


def tokens(text: str, *, stem: bool = True, stopwords: str = STOPWORDS) -> list[str]:
    """The words of text as a keyword_index() sees them: lower-cased, stop words removed, stemmed by default."""
    import bm25s

    stemmer = _stemmer() if stem else None
    return bm25s.tokenize([text], stopwords=stopwords, stemmer=stemmer, show_progress=False, return_ids=False)[0]


@functools.lru_cache(maxsize=1 << 16)
def query_terms(text: str) -> frozenset[str]:
    """The distinct stemmed, stop-word-free words of text, as the keyword index sees them.

    Cached: the second look asks this of the same candidate sentences for every question.
    """
    return frozenset(tokens(text))


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:24]


@functools.cache
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
    generations = sorted((p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep),
                         key=lambda p: p.stat().st_mtime)  # oldest first, even for two builds in one second
    for old in generations[: max(0, len(generations) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


_OPEN: dict[tuple, Index] = {}
_OPENING = threading.Lock()
_UNLOADABLE: dict[tuple, str] = {}  # the generation that failed to load, per open index


def open_index(corpus_dir: Path, index_dir: Path, embedder: Embedder) -> Index:
    """The index of corpus_dir: built first if it is missing or the corpus changed, loaded once per process,
    and reloaded when a build elsewhere (`qa index`, another process) has switched index_dir to a newer one.

    Questions asked while the new index loads are answered from the one already open; if the new one
    cannot be loaded, the open one goes on answering and the problem is logged.
    """
    key = (corpus_dir.resolve(), index_dir.resolve(), embedder.name, embedder.precision)
    index = _OPEN.get(key)
    if index is None:
        with _OPENING:
            if key not in _OPEN:
                if is_stale(corpus_dir, index_dir) or _previous_manifest(index_dir).get("model") != embedder.name:
                    log.info("building the index of %s in %s", corpus_dir, index_dir)
                    build_index(corpus_dir, index_dir, embedder=embedder)
                _OPEN[key] = Index.load(index_dir, embedder=embedder)
            return _OPEN[key]
    pointer = _pointer(index_dir)
    if pointer not in ("", index.path.name, _UNLOADABLE.get(key)) and _OPENING.acquire(blocking=False):
        try:
            _OPEN[key] = Index.load(index_dir, embedder=index.embedder)
            log.info("reloaded the index: %s", _OPEN[key].path.name)
        except QAError as error:
            _UNLOADABLE[key] = pointer  # not retried on every question; the next build gets a new name
            log.warning("kept the open index %s: the new one cannot be loaded (%s)", index.path.name, error)
        finally:
            _OPENING.release()
    return _OPEN[key]


def _pointer(index_dir: Path) -> str:
    """The generation CURRENT names now, or "" if it cannot be read."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
