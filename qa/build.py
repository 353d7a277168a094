"""Build or update the index of a corpus: read, chunk, embed what is new, make the searchers, calibrate the
abstention, and hand the files to the store; and open_index(), the index of a corpus built when it is missing."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from qa import index as scoring
from qa import config, encoder, multilingual, store, text
from qa.chunks import CHUNKER_VERSION, Chunk, ChunkSettings, chunk_document, searchable_text, sentence_in_context
from qa.documents import METADATA_KEYS, SUFFIXES, Document, Skipped, read_corpus
from qa.errors import EmptyCorpus, IndexCorrupt, IndexNotFound, ModelMismatch, QAError
from qa.index import CROSS_FILES, ENGLISH_KEYWORDS, FILES, Index, evidence
from qa.multilingual import Multilingual
from qa.probes import JAPANESE_PROBES, OFF_TOPIC_PROBES
from qa.text import english
from qa.vectors import Embedder

log = logging.getLogger(__name__)

# The stored vectors a build may reuse, and the rows.json lists of their keys, in the same order
VECTOR_FILES, VECTOR_ROWS = ("dense.faiss", "sentences.faiss", "in_context.npy", "titles.npy"), (
    "chunks", "sentences", "contexts", "titles")
CROSS_ROWS = ("cross_chunks", "cross_sentences", "cross_titles", "in_english")  # of CROSS_FILES

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


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    embedder: Embedder | None = None,
    settings: ChunkSettings = ChunkSettings(),
    progress: bool = False,
    multilingual: bool | None = None,
) -> BuildReport:
    """Build or update the index of corpus_dir in index_dir, embedding only texts that are new.

    multilingual: also embed every chunk, sentence and title with the multilingual encoder (Index.cross), which
    Japanese questions and documents need; default: config.multilingual() (QA_MULTILINGUAL, on).
    One build at a time per index folder: a second waits for the first, then reuses its vectors.
    """
    with store.build_lock(index_dir):
        return _build(corpus_dir, index_dir, embedder or Embedder(), settings, progress,
                      config.multilingual(multilingual))


def _build(corpus_dir: Path, index_dir: Path, embedder: Embedder, settings: ChunkSettings, progress: bool,
           multilingual: bool) -> BuildReport:
    started = time.perf_counter()
    documents, skipped = read_corpus(corpus_dir)
    if not documents:
        reasons = "".join(f"\n  skipped {item.reason}" for item in skipped)
        raise EmptyCorpus(
            f"No readable document in {corpus_dir}; add {', '.join(SUFFIXES)} files "
            f"(or set QA_CORPUS_DIR to the right folder).{reasons}"
        )
    previous = store.previous_manifest(index_dir)
    old_docs = previous.get("documents", {})
    new_docs = {d.doc_id: record(d) for d in documents}
    # a language: header wins; otherwise the text says which language it is in
    documents = [d if d.language else replace(d, language=text.detect(d.text[:2000])) for d in documents]
    chunks = [chunk for document in documents for chunk in chunk_document(document, settings)]
    by_id = {d.doc_id: d for d in documents}
    texts = [searchable_text(chunk, by_id[chunk.doc_id]) for chunk in chunks]
    sentences = [[chunk.text[s:e] for s, e in text.sentence_spans(chunk.text)] for chunk in chunks]
    contexts = [sentence_in_context(part, chunk, by_id[chunk.doc_id]) for chunk, parts in zip(chunks, sentences)
                for part in parts]
    foreign = [i for i, chunk in enumerate(chunks) if by_id[chunk.doc_id].language != english.LANGUAGE]
    sentence_start = [0]
    for parts in sentences:
        sentence_start.append(sentence_start[-1] + len(parts))
    rows = {
        "chunks": [key(embedder.name, part) for part in texts],
        "sentences": [key(embedder.name, part) for parts in sentences for part in parts],
        "sentence_start": sentence_start,
        "contexts": [key(embedder.name, part) for part in contexts],
        "titles": [key(embedder.name, d.title) for d in documents],
    }
    old, note, checked = _previous_vectors(index_dir, previous, embedder)
    chunk_vectors, embedded = _embed_new(embedder.embed, embedder.dimension, texts, rows["chunks"], old, progress)
    flat = [part for parts in sentences for part in parts]
    # the short texts in one call: the model sorts a call's texts by length, so one call pads less than three
    # (measured: 25% faster on the bundled corpus)
    rest, _ = _embed_new(embedder.embed, embedder.dimension, flat + contexts + [d.title for d in documents],
                         rows["sentences"] + rows["contexts"] + rows["titles"], old, progress)
    sentence_vectors, in_context, titles = np.split(rest, [len(flat), len(flat) + len(contexts)])
    searchers = _make_searchers(chunk_vectors, sentence_vectors, texts)
    manifest = describe(embedder, settings, new_docs, len(chunks), len(flat), searchers)
    questions, manifest["question_encoder"] = _question_encoder(checked, previous, embedder.name)
    if not multilingual:
        folder = write_index(index_dir, manifest, searchers, (in_context, titles), documents, chunks, rows,
                             questions)
        return _report(new_docs, old_docs, skipped, chunks, embedded, started, folder, note)
    cross, cross_files, manifest["multilingual_encoder"] = _multilingual_encoder(checked, previous)
    in_english = [text.in_english(texts[i]) for i in foreign]
    rows |= {"cross_chunks": [key(cross.name, part) for part in texts],
             "cross_sentences": [key(cross.name, part) for part in flat],
             "cross_titles": [key(cross.name, d.title) for d in documents],
             "in_english": [key(embedder.name, part) for part in in_english]}
    english_vectors, _ = _embed_new(embedder.embed, embedder.dimension, in_english, rows["in_english"], old, progress)
    cross_vectors, _ = _embed_new(cross.embed_passages, cross.dimension, texts + flat + [d.title for d in documents],
                                  rows["cross_chunks"] + rows["cross_sentences"] + rows["cross_titles"], old, progress)
    cross_chunks, cross_sentences, cross_titles = np.split(cross_vectors, [len(texts), len(texts) + len(flat)])
    cross_searchers = (vector_index(cross_chunks, len(chunks)), vector_index(cross_sentences, len(chunks)))
    index = Index(index_dir, {}, by_id, chunks, *searchers[:2], np.asarray(sentence_start), searchers[2], in_context,
                  dict(zip(by_id, titles)), embedder)
    index.cross = index.view(*cross_searchers, cross_titles, cross)
    index.in_english_vectors = english_vectors
    manifest["cross_probe_scores"] = cross_probe_scores(index)
    folder = write_index(index_dir, manifest, searchers, (in_context, titles), documents, chunks, rows,
                         questions | cross_files
                         | dict(zip(CROSS_FILES, (*cross_searchers, cross_titles, english_vectors)))
                         | _english_keywords(chunks, foreign, in_english))
    return _report(new_docs, old_docs, skipped, chunks, embedded, started, folder, note)


def _report(new_docs: dict, old_docs: dict, skipped, chunks, embedded: int, started: float, folder: Path, note: str,
            ) -> BuildReport:
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


def write_index(index_dir: Path, manifest: dict, searchers, arrays, documents: list[Document], chunks: list[Chunk],
                rows: dict, more: dict | None = None) -> Path:
    """Hand a new generation to the store: the searchers, the in-context sentence and title vectors (arrays),
    the documents, chunks and vector keys (rows), and more files as they are (the question encoder's and the
    multilingual view's: {name: content}, see store.write_generation). Returns its folder."""
    in_context, titles = arrays
    # in-context sentence and title vectors are stored, not searched, as float16: half the space, and cosines
    # move by 0.0001 on average, 0.0015 at most (grown corpus, 8 questions x 427 sentences)
    contents = (*searchers, np.asarray(in_context, dtype=np.float16), np.asarray(titles, dtype=np.float16),
                [_stored(d) for d in documents], [asdict(c) for c in chunks], rows)
    return store.write_generation(index_dir, manifest, dict(zip(FILES, contents)) | (more or {}))


def _stored(document: Document) -> dict:
    """What the index keeps of a document: all but its reader's blocks, which its chunks carry what they need of."""
    return {key: value for key, value in asdict(document).items() if key != "blocks"}


def _english_keywords(chunks: list[Chunk], foreign: list[int], in_english: list[str]) -> dict:
    """The keyword index of the passages not in English as read in English words (ENGLISH_KEYWORDS), apart from
    the main one, whose term statistics English questions on English passages are scored by; none without such
    passages."""
    if not foreign:
        return {}
    words = [""] * len(chunks)
    for i, part in zip(foreign, in_english):
        words[i] = part
    return {ENGLISH_KEYWORDS: keyword_index(words)}


def cross_probe_scores(index: Index) -> dict[str, list[float]]:
    """How much evidence off-topic questions find in the multilingual view, per language asked in: what a
    Japanese question must beat there (JAPANESE_PROBES, every chunk), and what an English question must beat
    in the documents not in English (OFF_TOPIC_PROBES, those chunks only; none when every document is English)."""
    probes = list(JAPANESE_PROBES)
    scores = {"ja": [round(index.cross.evidence_across(vector, text.terms(probe), "ja")
                           + index.evidence_in_english(in_english), 4)
                     for probe, vector, in_english in zip(probes, index.cross.embedder.embed(probes),
                                                          index.in_english_all(probes))]}
    if len(index.foreign_chunks):
        scores["en"] = [round(index.cross.evidence_across(vector, text.terms(probe), "en", index.foreign_chunks), 4)
                        for probe, vector in zip(OFF_TOPIC_PROBES, index.cross.embedder.embed(list(OFF_TOPIC_PROBES)))]
    return scores


def describe(embedder: Embedder, settings: ChunkSettings, documents: dict[str, dict], chunks: int, sentences: int,
             searchers, built: str = "") -> dict:
    """The manifest of a new index: how it was made, of what (documents: record() of each, by doc_id), and the
    abstention calibration."""
    probe_vectors = embedder.embed(list(OFF_TOPIC_PROBES))
    return {
        "model": embedder.name,
        "precision": embedder.precision,
        "dimension": embedder.dimension,
        "chunker": asdict(settings),
        "chunker_version": CHUNKER_VERSION,
        "documents": documents,
        "chunks": chunks,
        "sentences": sentences,
        # how much evidence everyday off-topic questions find in this corpus; answer() abstains below it
        "probe_scores": [
            round(evidence(*searchers, vector, text.terms(probe)), 4)
            for probe, vector in zip(OFF_TOPIC_PROBES, probe_vectors)
        ],
        "built": built or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _embed_new(embed, dimension: int, texts: list[str], keys: list[str], old: dict, progress: bool):
    """Vectors for texts made by embed (of dimension), reusing the previous generation's where the key (model +
    text) is the same."""
    missing = [i for i, key in enumerate(keys) if key not in old]
    log.info("embedding %d of %d texts", len(missing), len(texts))
    fresh = embed([texts[i] for i in missing], progress=progress)
    matrix = np.zeros((len(texts), dimension), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in old:
            matrix[i] = old[key]
    if missing:
        matrix[missing] = fresh
    return matrix, len(missing)


def _previous_vectors(index_dir: Path, previous: dict, embedder: Embedder) -> tuple[dict, str, Path | None]:
    """Chunk and sentence vectors of the current generation, by key, where the same model made them; and that
    generation's folder when every file of it was checked whole (else None)."""
    if not previous:
        return {}, "", None
    made_by = (previous.get("model"), previous.get("precision"), previous.get("format"))
    if made_by != (embedder.name, embedder.precision, store.FORMAT_VERSION):
        # vectors of two models, or two precisions, are never mixed in one index
        return {}, (f"the previous index was made by {previous.get('model')!r} in {previous.get('precision')}: "
                    "everything was re-embedded"), None
    try:
        folder, manifest = store.read_manifest(index_dir)
        cross = CROSS_FILES if CROSS_FILES[0] in manifest.get("files", {}) else ()
        files = store.read_files(folder, manifest, [*VECTOR_FILES, *cross, "rows.json"])  # hashes checked once
    except (IndexNotFound, IndexCorrupt) as error:
        return {}, f"the previous index could not be read ({error}): everything was re-embedded", None
    rows, old = files["rows.json"], {}
    for names, kinds in ((VECTOR_FILES, VECTOR_ROWS), (cross, CROSS_ROWS)):
        stored = [_matrix(files[name]) for name in names]
        if [len(matrix) for matrix in stored] != [len(rows.get(kind, [])) for kind in kinds]:
            if names is VECTOR_FILES:
                return {}, "the previous index was inconsistent: everything was re-embedded", None
            continue  # only the multilingual vectors are made again
        for kind, matrix in zip(kinds, stored):
            old.update(zip(rows[kind], matrix))
    return old, "", folder


def _question_encoder(checked: Path | None, previous: dict, model: str) -> tuple[dict[str, Path], dict | None]:
    """The question encoder's files ({name: path}) and manifest record: those of the previous generation (checked:
    its folder, whose hashes were just checked) where it has one of the same model and export, else this process's
    export of model; none where model cannot be exported (its questions are then embedded with torch)."""
    if checked is not None and encoder.reusable(previous, model):
        return {name: checked / name for name in encoder.FILES}, previous["question_encoder"]
    return encoder.exported(model) or ({}, None)


def _multilingual_encoder(checked: Path | None, previous: dict) -> tuple[Multilingual, dict[str, Path], dict]:
    """The multilingual encoder, its files ({name: path}) and manifest record: the previous generation's (checked:
    its folder, whose hashes were just checked) where it has the same export, else this process's export."""
    if checked is not None and multilingual.reusable(previous):
        folder, record = checked, previous["multilingual_encoder"]
    else:
        folder, record = multilingual.exported()
    return Multilingual(folder, record), {name: folder / name for name in multilingual.FILES}, record


def _matrix(stored) -> np.ndarray:
    """The float32 rows of a stored FAISS index or array."""
    if isinstance(stored, np.ndarray):
        return stored.astype(np.float32)
    return stored.reconstruct_n(0, stored.ntotal)


def is_stale(corpus_dir: Path, index_dir: Path) -> bool:
    """Is there no usable index of this corpus: none, an older format, or other documents than the corpus holds?"""
    manifest = store.previous_manifest(index_dir)
    if manifest.get("format") != store.FORMAT_VERSION or manifest.get("chunker_version") != CHUNKER_VERSION:
        return True
    documents, _ = read_corpus(corpus_dir)
    return manifest.get("documents") != {d.doc_id: record(d) for d in documents}


def record(document: Document) -> dict[str, str]:
    """What the index notes of a document to notice a change: its file's hash and its metadata, which may
    also change without the file (a metadata table beside it)."""
    return {"sha256": document.sha256} | {key: getattr(document, key) for key in METADATA_KEYS}


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
    """The index chunk and sentence vectors are searched with: exact up to index.ANN_THRESHOLD chunks, HNSW above."""
    return ann_index(vectors) if chunks > scoring.ANN_THRESHOLD else flat_index(vectors)


def _make_searchers(chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, texts: list[str]):
    chunks = len(chunk_vectors)
    return vector_index(chunk_vectors, chunks), vector_index(sentence_vectors, chunks), keyword_index(texts)


def keyword_index(texts: list[str]):
    """A BM25 index (bm25s) of texts, each cut into keyword terms by the analyser of its language (qa.text)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every build
    keywords = bm25s.BM25()
    keywords.index([text.words(part) for part in texts], show_progress=False)
    return keywords


def key(model: str, part: str) -> str:
    """What a vector is stored under: the model and the text it was made of."""
    return hashlib.sha256(f"{model}\0{part}".encode()).hexdigest()[:24]


_OPEN: dict[tuple, Index] = {}
_OPENING = threading.Lock()
_UNLOADABLE: dict[tuple, str] = {}  # the generation that failed to load, per open index


def open_index(corpus_dir: Path, index_dir: Path, embedder: Embedder) -> Index:
    """The index of corpus_dir: built first (by embedder) if it is missing or the corpus changed, loaded once per
    process, and reloaded when a build elsewhere (`qa index`, another process) has switched index_dir to a newer one.
    Its questions are embedded by the index's own question encoder (qa.encoder), not by embedder: no torch.

    Questions asked while the new index loads are answered from the one already open; if the new one
    cannot be loaded, the open one goes on answering and the problem is logged.
    """
    # not by precision, which only building needs (and which asks torch what the CPU can do)
    key = (corpus_dir.resolve(), index_dir.resolve(), embedder.name)
    index = _OPEN.get(key)
    if index is None:
        with _OPENING:
            if key not in _OPEN:
                if is_stale(corpus_dir, index_dir) or store.previous_manifest(index_dir).get("model") != embedder.name:
                    log.info("building the index of %s in %s", corpus_dir, index_dir)
                    build_index(corpus_dir, index_dir, embedder=embedder)
                _OPEN[key] = _load(index_dir, embedder.name)
            return _OPEN[key]
    pointer = store.pointer(index_dir)
    if pointer not in ("", index.path.name, _UNLOADABLE.get(key)) and _OPENING.acquire(blocking=False):
        try:
            _OPEN[key] = _load(index_dir, embedder.name)
            log.info("reloaded the index: %s", _OPEN[key].path.name)
        except QAError as error:
            _UNLOADABLE[key] = pointer  # not retried on every question; the next build gets a new name
            log.warning("kept the open index %s: the new one cannot be loaded (%s)", index.path.name, error)
        finally:
            _OPENING.release()
    return _OPEN[key]


def _load(index_dir: Path, model: str) -> Index:
    """The index in index_dir with its own question encoder, refused if another model than model built it."""
    index = Index.load(index_dir)
    if index.manifest["model"] != model:
        raise ModelMismatch(f"The index in {index_dir} was built with {index.manifest['model']!r}, not {model!r}; "
                            f"rebuild it with 'qa index' or set QA_MODEL={index.manifest['model']}")
    return index
