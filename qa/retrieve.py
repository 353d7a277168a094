"""Find the passages that answer a question: dense and keyword search, fused, then a second look."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import config
from qa.chunks import Chunk, split_sentences
from qa.documents import Document
from qa.errors import BadQuestion
from qa.index import Index, open_index

MAX_QUESTION_CHARS = 1000
CANDIDATES = 60  # from each of dense and keyword search, before fusion
RRF_K = 60  # reciprocal rank fusion's damping constant, as in Cormack et al. (2009)
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    """A retrieved passage and where it comes from."""

    text: str
    score: float
    doc_id: str
    title: str
    publisher: str
    date: str
    url: str
    start: int  # character offsets of text in its document
    end: int
    location: str  # "paragraph 4", "items 2-3", ...
    highlight: tuple[int, int]  # offsets, within text, of the sentence(s) that best answer the question
    relevance: float  # cosine similarity of the question to the passage, for deciding whether to answer

    @property
    def citation(self) -> str:
        """One line a person can check: title, publisher, date, place in the document, link."""
        parts = [f"“{self.title}”", self.publisher, self.date, self.location]
        return ", ".join(part for part in parts if part) + (f". {self.url}" if self.url else "")

    @property
    def quote(self) -> str:
        return self.text[self.highlight[0] : self.highlight[1]]


def retrieve(
    query: str,
    k: int = 5,
    *,
    index: Index | None = None,
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
) -> list[Passage]:
    """Return the k passages that best answer query, best first.

    Args:
        query: a question or keywords.
        k: how many passages to return.
        index: an open Index; by default the index of the default corpus, built on first use.
        corpus_dir, index_dir: where the default corpus and index live (else QA_CORPUS_DIR / QA_INDEX_DIR).

    Raises:
        BadQuestion: the query has no words to search for.
    """
    query = clean_question(query)
    index = index or open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.model_name())
    if not index.chunks or k < 1:
        return []
    vector = index.embedder.embed([query])[0]
    dense = dict(index.dense_scores(vector, CANDIDATES))
    keyword = index.keyword_scores(query)
    fused = fuse(dense, keyword, CANDIDATES)
    chosen = diverse([(i, fused[i]) for i in sorted(fused, key=fused.get, reverse=True)], index.chunks, k)
    return [_passage(index, i, score, dense.get(i), vector, query) for i, score in chosen]


def clean_question(query: str) -> str:
    """The question as it will be searched: control characters removed, whitespace folded, length capped."""
    if not isinstance(query, str):
        raise BadQuestion("The question must be text.")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in query).split())
    if not WORD.search(text):
        raise BadQuestion("Please type a question with at least one word in it.")
    return text[:MAX_QUESTION_CHARS]


def fuse(dense: dict[int, float], keyword: np.ndarray, n: int) -> dict[int, float]:
    """Reciprocal rank fusion of dense results and the top-n keyword results (chunks with a keyword match)."""
    fused: dict[int, float] = {}
    for rank, i in enumerate(sorted(dense, key=dense.get, reverse=True)):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    top = np.argsort(-keyword)[:n]
    for rank, i in enumerate(int(i) for i in top if keyword[i] > 0):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


def diverse(ranked: list[tuple[int, float]], chunks: list[Chunk], k: int) -> list[tuple[int, float]]:
    """Keep the best k, skipping passages that repeat one already kept almost word for word."""
    kept: list[tuple[int, float]] = []
    kept_words: list[set[str]] = []
    for i, score in ranked:
        words = set(WORD.findall(chunks[i].text.lower()))
        if any(_overlap(words, other) > 0.8 for other in kept_words):
            continue
        kept.append((i, score))
        kept_words.append(words)
        if len(kept) == k:
            break
    return kept


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _passage(index: Index, i: int, score: float, relevance: float | None, vector: np.ndarray, query: str) -> Passage:
    chunk = index.chunks[i]
    document: Document = index.documents[chunk.doc_id]
    if relevance is None:
        relevance = float(index.vectors([i])[0] @ vector)
    return Passage(
        text=chunk.text,
        score=round(score, 6),
        doc_id=chunk.doc_id,
        title=document.title,
        publisher=document.publisher,
        date=document.date,
        url=document.url,
        start=chunk.start,
        end=chunk.end,
        location=chunk.location,
        highlight=_best_sentence(chunk.text, query),
        relevance=round(relevance, 4),
    )


def _best_sentence(text: str, query: str) -> tuple[int, int]:
    query_words = {w for w in WORD.findall(query.lower()) if len(w) > 2}
    spans = split_sentences(text) or [(0, len(text))]
    return max(spans, key=lambda span: len(query_words & set(WORD.findall(text[span[0] : span[1]].lower()))))
