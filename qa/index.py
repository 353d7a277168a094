"""Load an index and score questions against it: FAISS vectors, BM25 keywords, and how much evidence the corpus
holds for a question. Storage is qa/store.py; building is qa/build.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import store, text
from qa.chunks import CHUNKER_VERSION, Chunk
from qa.documents import Document
from qa.encoder import question_encoder
from qa.errors import IndexCorrupt, ModelMismatch
from qa.multilingual import Multilingual, for_generation
from qa.text import english
from qa.vectors import Embedder

# The files of a generation, in the order build writes them
FILES = ("dense.faiss", "sentences.faiss", "keywords", "in_context.npy", "titles.npy", "documents.jsonl",
         "chunks.jsonl", "rows.json")
# The same chunks, sentences and titles as the multilingual encoder sees them (qa.multilingual): the view in which
# a Japanese question meets an English passage, and an English question a Japanese one
CROSS_FILES = ("cross_dense.faiss", "cross_sentences.faiss", "cross_titles.npy", "in_english.npy")
# in_english.npy: MiniLM's vectors of the English words for each passage not in English (text.in_english), in
# chunk order: where an English question's vector meets a Japanese passage in MiniLM's own view; and, where
# there are such passages, the keyword index of them in those words (other chunks empty), apart from the main one
ENGLISH_KEYWORDS = "in_english_keywords"
# Above this many chunks the chunk and sentence vectors are searched approximately (HNSW). An exact
# search reads every vector (measured: 39 ms for 100,000 chunk vectors on two cores) and the sentence
# index holds two or three rows per chunk, so past about 20,000 chunks exact search costs more than
# embedding the question (~10 ms); HNSW took 0.8 ms at 100,000 with recall@10 0.955 (python -m bench).
ANN_THRESHOLD = 20_000
# The in-context sentence vectors are stored as float16 and held as float32 up to this size: casting a question's
# candidates (about 190 rows) took 0.09-0.2 ms of the 0.5-1 ms retrieve() does besides embedding the question, the
# product from float32 rows 0.01 ms. Past it (some 87,000 sentences) they stay float16 in memory, half the space,
# and only the candidates' rows are cast: the cost per question is the same at any size, the memory is not.
IN_CONTEXT_FLOAT32_BYTES = 128 << 20


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
    in_context: np.ndarray | None = field(repr=False)  # the sentences again, each after its title and heading
                                        # (IN_CONTEXT_FLOAT32_BYTES); None: the sentences stand for themselves
    titles: dict[str, np.ndarray] = field(repr=False)  # vector of each document's title, by doc_id
    embedder: Embedder = field(repr=False)
    cross: Index | None = field(default=None, repr=False)  # the same chunks in the multilingual encoder's view
    in_english_vectors: np.ndarray | None = field(default=None, repr=False)  # in_english.npy, with cross
    in_english_keywords: object | None = field(default=None, repr=False)  # ENGLISH_KEYWORDS, where there is one

    @classmethod
    def load(cls, index_dir: Path, *, embedder: Embedder | None = None) -> Index:
        """Load the current generation under index_dir, checking that its files agree. Questions are embedded with
        embedder if given (of the index's model), else with the generation's own question encoder (no torch)."""
        folder, manifest = store.read_manifest(index_dir)
        if manifest.get("format") != store.FORMAT_VERSION:
            raise ModelMismatch(f"The index in {index_dir} has another format; rebuild it with 'qa index'")
        if manifest.get("chunker_version") != CHUNKER_VERSION:
            raise ModelMismatch(f"The index in {index_dir} was cut into passages by another version of the "
                                "chunker; rebuild it with 'qa index'")
        embedder = embedder or question_encoder(folder, manifest)
        if embedder.name != manifest.get("model"):
            raise ModelMismatch(
                f"The index in {index_dir} was built with {manifest.get('model')!r}, not {embedder.name!r}; "
                f"rebuild it with 'qa index' or set QA_MODEL={manifest.get('model')}"
            )
        cross = CROSS_FILES if CROSS_FILES[0] in manifest.get("files", {}) else ()
        if cross and f"{ENGLISH_KEYWORDS}/params.index.json" in manifest["files"]:  # a bm25s folder's files
            cross = (*cross, ENGLISH_KEYWORDS)
        files = store.read_files(folder, manifest, [*FILES, *cross])  # every file's hash checked once
        dense, sentences, keywords, in_context, titles, documents, chunks, rows = (files[name] for name in FILES)
        try:
            documents = [Document(**row) for row in documents]
            chunks = [Chunk(**row) for row in chunks]
        except TypeError as error:
            raise IndexCorrupt(f"The index in {folder} is damaged ({error}); rebuild it with 'qa index'") from error
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
        if in_context.size * 4 <= IN_CONTEXT_FLOAT32_BYTES:
            in_context = in_context.astype(np.float32)
        titles = {d.doc_id: v for d, v in zip(documents, titles.astype(np.float32))}  # one product per document
        index = cls(folder, manifest, {d.doc_id: d for d in documents}, chunks, dense, sentences, sentence_start,
                    keywords, in_context, titles, embedder)
        if cross:
            index.cross = index.view(*(files[name] for name in cross[:3]), for_generation(folder, manifest))
            index.in_english_vectors = files["in_english.npy"]
            index.in_english_keywords = files.get(ENGLISH_KEYWORDS)
            if len(index.in_english_vectors) != len(index.foreign_chunks):
                raise IndexCorrupt(f"The files of the index in {folder} disagree; rebuild it with 'qa index'")
        return index

    def view(self, dense, sentences, titles: np.ndarray, encoder: Multilingual) -> Index:
        """This index's chunks as the multilingual encoder sees them: its chunk and sentence searchers and title
        vectors, the same keywords. Its sentences stand for themselves in context, which it has no vectors of."""
        if (dense.ntotal, sentences.ntotal, len(titles)) != (len(self.chunks), self.sentences.ntotal, len(self.titles)):
            raise IndexCorrupt(f"The files of the index in {self.path} disagree; rebuild it with 'qa index'")
        return Index(self.path, self.manifest, self.documents, self.chunks, dense, sentences, self.sentence_start,
                     self.keywords, None, dict(zip(self.titles, np.asarray(titles, dtype=np.float32))),
                     Questions(encoder))

    @functools.cached_property
    def languages(self) -> np.ndarray:
        """The language of each chunk (its document's), in chunk order."""
        return np.array([self.documents[chunk.doc_id].language or english.LANGUAGE for chunk in self.chunks])

    @functools.cached_property
    def foreign_chunks(self) -> np.ndarray:
        """The numbers of the chunks not in English, in order."""
        return np.flatnonzero(self.languages != english.LANGUAGE)

    def english_vectors(self, ids: list[int]) -> np.ndarray:
        """Each chunk's vector in English words, in this (English) view: an English chunk's own, another's of
        the English words for it (in_english_vectors; zeros in an index without them)."""
        vectors = self.vectors(ids)
        foreign = self.languages[ids] != english.LANGUAGE
        vectors[foreign] = 0.0
        if self.in_english_vectors is not None and foreign.any():
            rows = np.searchsorted(self.foreign_chunks, np.asarray(ids)[foreign])
            vectors[foreign] = self.in_english_vectors[rows]
        return vectors

    def dense_scores(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """The n chunks nearest to a unit query vector: {chunk number: cosine}."""
        scores, ids = self.dense.search(vector.reshape(1, -1), min(n, len(self.chunks)))
        return {i: s for i, s in zip(ids[0].tolist(), scores[0].tolist()) if i >= 0}

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
        words = text.words(query)
        return self.keywords.get_scores(words) if words else np.zeros(len(self.chunks))

    def in_english_keyword_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk not in English, as read in English words, for an English query (zeros
        elsewhere, and everywhere in an index without such chunks)."""
        words = text.words(query)
        if self.in_english_keywords is None or not words:
            return np.zeros(len(self.chunks))
        return self.in_english_keywords.get_scores(words)

    def idf(self, terms: frozenset[str]) -> dict[str, float]:
        """How rare each term is in this corpus (BM25's IDF)."""
        return idf(self.keywords, terms)

    def mentions(self, word: str) -> bool:
        """Does some chunk hold word, as the keyword index sees it (stemmed: "Councils" is "council"), or
        the place a word for its people names ("Canadian": "Canada"), or, for an acronym, the words it
        stands for ("GDP": "gross domestic product")? A stop word counts as held."""
        if all(len(_chunks_with(self.keywords, term)) for term in text.terms(word)):
            return True
        if any(terms and all(len(_chunks_with(self.keywords, term)) for term in terms)
               for terms in map(text.terms, english.places(word))):
            return True
        spelled = english.spelled_out(word)
        return spelled is not None and any(spelled.search(document.text) for document in self.documents.values())

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
        start = np.zeros(len(chunks) + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        rows = np.repeat(self.sentence_start[chunks] - start[:-1], counts) + np.arange(start[-1])
        if not len(rows):
            return np.zeros(0, np.float32), np.zeros(0, np.float32), start
        alone = self.sentences.reconstruct_batch(rows) @ vector
        if self.in_context is None:
            return alone, alone, start
        return alone, self.in_context[rows].astype(np.float32, copy=False) @ vector, start

    # The same searches among some chunks only (a filter's): see search_among() for how they stay exact.

    def dense_scores_among(self, vector: np.ndarray, n: int, chunks: np.ndarray) -> dict[int, float]:
        """dense_scores() among the given chunk numbers only."""
        scores, ids = search_among(self.dense, vector, n, chunks)
        return dict(zip(np.asarray(ids).tolist(), np.asarray(scores).tolist()))

    def sentence_scores_among(self, vector: np.ndarray, n: int, chunks: np.ndarray) -> dict[int, float]:
        """sentence_scores() among the sentences of the given chunk numbers only."""
        scores, rows = search_among(self.sentences, vector, n, self.sentence_rows(chunks))
        return self._best_by_chunk(np.asarray(rows), np.asarray(scores))

    def evidence_among(self, vector: np.ndarray, terms: frozenset[str], chunks: np.ndarray) -> float:
        """evidence() counting the given chunk numbers only: what a filtered search has to go on."""
        return self.nearest(vector, chunks) + self.coverage(terms, chunks)

    def evidence_across(self, vector: np.ndarray, terms: frozenset[str], language: str,
                        chunks: np.ndarray | None = None) -> float:
        """evidence() of a question in language in this (multilingual) view, among chunks (None: all): the best
        cosine anywhere, and the terms' coverage in passages of the question's language only."""
        return self.nearest(vector, chunks) + self.coverage(terms, chunks, language)

    def nearest(self, vector: np.ndarray, chunks: np.ndarray | None = None) -> float:
        """The best cosine of a unit vector to any chunk or sentence among chunks (None: all): evidence's dense
        half. retrieve() has it from its candidates' searches, which are the same searches (Candidates.nearest)."""
        if chunks is None:
            return nearest(self.dense, self.sentences, vector)
        found = [search_among(self.dense, vector, 1, chunks)[0],
                 search_among(self.sentences, vector, 1, self.sentence_rows(chunks))[0]]
        return max((float(scores[0]) for scores in found if len(scores)), default=0.0)

    def coverage(self, terms: frozenset[str], chunks: np.ndarray | None = None, language: str = "") -> float:
        """evidence()'s keyword half among chunks (None: all), see coverage(); in passages of language only, if
        given. Across languages the terms a question shares with a passage are a figure or a name in Latin
        letters ("2019年", "EU"), which off-topic questions share as often as others."""
        if not language:
            return coverage(self.keywords, terms, chunks)
        chunks = np.arange(len(self.chunks)) if chunks is None else np.asarray(chunks, dtype=np.int64)
        same = chunks[self.languages[chunks] == language]
        return coverage(self.keywords, terms, same) if len(same) else 0.0

    def in_english(self, question: str) -> np.ndarray | None:
        """This view's vector of the English words for a question in another language (text.in_english), None
        when the dictionary has none for it."""
        return self.in_english_all([question])[0]

    def in_english_all(self, questions: list[str]) -> list[np.ndarray | None]:
        """in_english() of each question, embedded in one call."""
        words = [text.in_english(question) for question in questions]
        vectors = self.embedder.embed(words) if words else []
        return [vector if text.words(part) else None for part, vector in zip(words, vectors)]

    def evidence_in_english(self, vector: np.ndarray | None, chunks: np.ndarray | None = None) -> float:
        """The best cosine of a question's vector in_english() to an English chunk or sentence among chunks
        (None: all); 0 when there is none. A second judge beside the multilingual view's for whether the corpus
        covers a question in another language: MiniLM tells a bag of dictionary words on the documents' topic
        from one off it better than e5's cosines, which sit close together, tell the question itself. Japanese
        dev answered 0.79 -> 0.97, off-topic refused 1.00 (BENCHMARKS, "Asked in Japanese")."""
        chunks = np.arange(len(self.chunks)) if chunks is None else np.asarray(chunks, dtype=np.int64)
        chunks = chunks[self.languages[chunks] == english.LANGUAGE]
        if vector is None or not len(chunks):
            return 0.0
        return self.evidence_among(vector, frozenset(), chunks)

    def sentence_rows(self, chunks: np.ndarray) -> np.ndarray:
        """The rows of the sentence index that hold the given chunks' sentences."""
        wanted = np.zeros(len(self.chunks), dtype=bool)
        wanted[chunks] = True
        return np.flatnonzero(np.repeat(wanted, np.diff(self.sentence_start)))


class Questions:
    """A multilingual encoder as a view's embedder: what retrieval embeds there are questions ("query: ")."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.name, self.precision, self.dimension = encoder.name, encoder.precision, encoder.dimension

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return self.encoder.embed_queries(texts)


def evidence(dense, sentences, keywords, vector: np.ndarray, terms: frozenset[str]) -> float:
    """How much the corpus has to say about a question: the best cosine of any chunk or sentence,
    plus the largest share of the question's terms, weighted by rarity (IDF), that one chunk holds.

    The keyword half catches names the embedding model does not know ("Where does Maslow teach?");
    the dense half catches paraphrases. Off-topic questions score low on both.
    """
    return nearest(dense, sentences, vector) + coverage(keywords, terms)


def nearest(dense, sentences, vector: np.ndarray) -> float:
    """The best cosine of a unit vector to any chunk (dense) or sentence: evidence()'s dense half."""
    return max((float(index.search(vector.reshape(1, -1), 1)[0][0][0]) for index in (dense, sentences) if index.ntotal),
               default=0.0)


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


def _chunks_with(keywords, term: str) -> np.ndarray:
    token = keywords.vocab_dict.get(term)
    indptr, indices = keywords.scores["indptr"], keywords.scores["indices"]
    return indices[indptr[token] : indptr[token + 1]] if token is not None else indices[:0]
