"""Find the passages that answer a question: dense and keyword search, then a second look at every
sentence of the candidates, alone and after its title and heading, fused into one score."""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import config, conversation, text
from qa.build import open_index
from qa.chunks import Chunk
from qa.documents import Document
from qa.filters import Filters
from qa.index import Index
from qa.question import check_k, clean_history, clean_question, cut_notice
from qa.quote import ANSWER_TYPE_WEIGHT, best_sentence, mentions_date
from qa.text import english

log = logging.getLogger(__name__)

CANDIDATES = 60  # from each of chunk, sentence and keyword search, before fusion
# The fused score (fuse): weights of the scaled signals, chosen on a plateau of the dev and growth sets (BENCHMARKS.md)
DENSE_WEIGHT = 0.25  # the question against the chunk with its context, plus against its closest sentence
KEYWORD_WEIGHT = 0.35  # BM25
IN_CONTEXT_WEIGHT = 0.3  # against the closest sentence embedded after its title and heading
TITLE_WEIGHT = 0.2  # subtracted: against the document's title alone, so the in-context score counts what the
                    # sentence adds to its title, not how well the title alone matches
CARRIED_WEIGHT = 0.7  # a follow-up's earlier question, searched with it: its vector and BM25 scores added at this
                      # weight. Follow-up hit@3 / hit@1: 0.90 / 0.70 at 0.5, 0.93 / 0.73 at 0.7 and at 1.0;
                      # topic changes 0.96 / 0.91 at each (bench/chat, BENCHMARKS.md)
TRANSLATED_WEIGHT = 0.5  # across languages: the MiniLM cosine of a question and a passage both in English words,
                         # added to the multilingual cosine. Japanese dev hit@1 0.76 at 0.5, 1 and 2 (0.74 without),
                         # hit@5 1.00 at 0.5, 0.97 at 1 and 2; English questions on Japanese documents hit@5 0.91
                         # at 0.5 and 1 (BENCHMARKS, "Asked in Japanese")
SAME_DOCUMENT_PENALTY = 0.05  # off a passage's fused score for its document's 1st passage already shown, 0.1 more
                              # for the 2nd, 0.15 more for the 3rd, ... (diverse)
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
    context: str = ""  # the headings or list lead-in above the passage in its document, not part of its text
    language: str = ""  # the language of its document ("en", "ja"), in which it is quoted

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
    history: Sequence[str] = (),
    index: Index | None = None,
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    since: str | None = None,
    until: str | None = None,
    publishers: Iterable[str] | None = None,
    documents: Iterable[str] | None = None,
) -> list[Passage]:
    """Return the k passages that best answer query, best first.

    Args:
        query: a question or keywords.
        k: how many passages to return.
        history: the conversation's earlier questions, oldest first. A question that leans on them ("And the
            second one?", "Where will it take place?") is searched together with them; one that stands on its
            own is searched alone. Typos are corrected against the documents' words either way.
        index: an open Index; by default the index of the default corpus, built on first use.
        corpus_dir, index_dir: where the default corpus and index live (else QA_CORPUS_DIR / QA_INDEX_DIR).
        since, until: only documents dated in this range, both ends included: "2025", "2025-05" or "2025-05-12".
        publishers: only documents by these publishers (whole name, any case).
        documents: only these documents (doc_ids, as in Passage.doc_id).

    Raises:
        BadQuestion: the query has no words to search for, or k is below 1.
        BadFilter: a date is not a year, a month or a day, or since is after until.
    """
    if notice := cut_notice(query):  # checks the query before opening the index, which may mean building it
        log.warning(notice)
    query = clean_question(query)
    check_k(k)
    filters = Filters.of(since, until, publishers, documents)
    index = index or open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    reading = conversation.understand(query, clean_history(history), index)
    return search(reading.question, k, index, filters, context=reading.context)[0]


def search(query: str, k: int, index: Index, filters: Filters = Filters(), context: str = "", language: str = "",
           ) -> tuple[list[Passage], float]:
    """The k best passages for query from the documents filters allows, and how much evidence those documents
    hold for it (see index.evidence), on the scale of the English calibration (answer.threshold). Nothing, and
    no evidence, when filters allows no document.

    An English question is searched in MiniLM's view of the English documents, as it always was. A question
    in another language, and an English one among documents in another language, is searched in the
    multilingual view (Index.cross), whose evidence is measured against off-topic questions in that view
    (build.cross_probe_scores). Passages of the other languages join an English question's only where their
    documents hold more evidence than off-topic questions find there.

    context: earlier questions query leans on (conversation.read), searched with it: their vector and keyword
    scores are added at CARRIED_WEIGHT, their terms count for the quote and the evidence. language: query's, where
    the caller has it already (text.detect).
    """
    query = clean_question(query)
    allowed = None if filters == Filters() else allowed_chunks(index, filters)
    if not index.chunks or k < 1 or (allowed is not None and not len(allowed)):
        return [], 0.0
    language = language or text.detect(query)
    foreign = index.languages != english.LANGUAGE
    if index.cross is None or (language == english.LANGUAGE and not foreign.any()):
        return _search(query, k, index, allowed, context)
    threshold = max(index.manifest.get("probe_scores") or [0.0])
    if language != english.LANGUAGE:
        # the question (and context) in English words, embedded by MiniLM in a thread while e5 embeds the question
        # (one thread a run: multilingual.THREADS): Japanese answers 2.2x -> 1.6x an English one's time, two cores
        words = _BESIDE.submit(index.in_english, f"{context} {query}".strip())
        vector = _question_vector(index.cross, query, context)
        in_english = words.result()
        passages, evidence = _search(query, k, index.cross, allowed, context, language, (index, in_english), vector)
        evidence += index.evidence_in_english(in_english, allowed)
        return passages, evidence - calibration(index, language) + threshold
    in_english = index.in_english(f"{context} {query}".strip())  # the question (and context) in English words
    chosen = np.ones(len(index.chunks), dtype=bool) if allowed is None else np.isin(np.arange(len(index.chunks)), allowed)
    own, own_evidence = _search(query, k, index, np.flatnonzero(chosen & ~foreign), context)
    other, other_evidence = _search(query, k, index.cross, np.flatnonzero(chosen & foreign), context, language,
                                    (index, in_english))
    own_margin, other_margin = own_evidence - threshold, other_evidence - calibration(index, english.LANGUAGE)
    if other_margin <= 0 and own:  # the other documents say no more than off-topic questions find there
        return own, own_evidence
    lead, rest = (own, other) if own and own_margin >= other_margin else (other, own)
    return (lead[:1] + sorted(lead[1:] + rest, key=lambda p: -p.score))[:k], threshold + max(own_margin, other_margin)


def calibration(index: Index, language: str) -> float:
    """The most evidence an off-topic question in language found in the multilingual view (cross_probe_scores)."""
    return max(index.manifest.get("cross_probe_scores", {}).get(language) or [0.0])


# the thread that embeds a question's English words beside the multilingual encoder's run (started on first use)
_BESIDE = ThreadPoolExecutor(1, thread_name_prefix="qa-english-words")


def _question_vector(index: Index, query: str, context: str) -> np.ndarray:
    """The question's vector in this view: with its context's added at CARRIED_WEIGHT, where it leans on one."""
    vectors = index.embedder.embed([query, context] if context else [query])
    return _unit(vectors[0] + CARRIED_WEIGHT * vectors[1]) if context else vectors[0]


def _search(query: str, k: int, index: Index, allowed: np.ndarray | None, context: str, language: str = "",
            in_english: tuple[Index, np.ndarray | None] | None = None, vector: np.ndarray | None = None,
            ) -> tuple[list[Passage], float]:
    """search() in one view of the index, among the allowed chunk numbers (None: all). language: the question's,
    given in the multilingual view, where keywords count only in passages of that language (see candidates);
    in_english: for a question in another language, the index's English view and the vector there of the
    question's English words (Index.in_english; see candidates); vector: the question's in this view, if the caller
    has it (_question_vector)."""
    if allowed is not None and not len(allowed):
        return [], 0.0
    if vector is None:
        vector = _question_vector(index, query, context)
    found = candidates(query, vector, index, allowed, context, language, in_english)
    relevance = np.maximum(found.chunk_cosine, found.best_sentence)
    fused = fuse(found)
    order = np.argsort(-fused)
    ranked = list(zip(np.asarray(found.ids)[order].tolist(), fused[order].tolist()))
    at = {i: j for j, i in enumerate(found.ids)}
    terms = text.terms(query) | text.terms(context)
    weights = index.idf(terms)
    asks_date = asks_for_date(query, context)
    passages = [  # each sentence weighed by the mean of its cosines alone and in context
        _passage(index, i, score, relevance[at[i]], best_sentence(
            index.chunks[i].text, np.add(*found.sentences_of(at[i])) / 2, terms, weights, asks_date))
        for i, score in diverse(ranked, index.chunks, k)
    ]
    # index.evidence_among / evidence_across, with the cosine half the candidates' searches found already
    return passages, found.nearest + index.coverage(terms, allowed, language if index.cross is None else "")


@dataclass(frozen=True)
class Candidates:
    """The chunks worth a second look for a question, and what each search found in them, in the same order."""

    ids: list[int]  # chunk numbers, ascending
    chunk_cosine: np.ndarray  # the question against each chunk with its context
    keyword: np.ndarray  # BM25 score of each chunk
    title: np.ndarray  # the question against the title of each chunk's document
    sentence_cosine: np.ndarray  # the question against every sentence of the chunks, chunk after chunk
    context_cosine: np.ndarray  # the same, each sentence after its title and heading (sentence_in_context)
    answer_type: np.ndarray  # 1 where the chunk holds the kind of answer asked for (a date, for "when"), else 0
    sentence_start: np.ndarray  # chunk j's sentences are [sentence_start[j]:sentence_start[j + 1]] (every chunk has one)
    nearest: float = 0.0  # the best cosine the searches found, of any chunk or sentence allowed (Index.nearest)

    def sentences_of(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The cosines of candidate j's sentences, in order: alone, and in context."""
        start, end = self.sentence_start[j], self.sentence_start[j + 1]
        return self.sentence_cosine[start:end], self.context_cosine[start:end]

    @functools.cached_property
    def best_sentence(self) -> np.ndarray:
        return np.maximum.reduceat(self.sentence_cosine, self.sentence_start[:-1])

    @functools.cached_property
    def best_in_context(self) -> np.ndarray:
        return np.maximum.reduceat(self.context_cosine, self.sentence_start[:-1])


def candidates(query: str, vector: np.ndarray, index: Index, allowed: np.ndarray | None = None,
               context: str = "", language: str = "", in_english: tuple[Index, np.ndarray | None] | None = None,
               ) -> Candidates:
    """The CANDIDATES best chunks by chunk vector, by sentence vector and by keywords, together, with the
    question compared to each chunk and to every sentence in it: the second look. allowed: chunk numbers
    to search among (None: all). context: the earlier questions query leans on, their BM25 scores added at
    CARRIED_WEIGHT (vector already holds theirs).

    Across languages both sides are also read in English words (a bilingual dictionary's, text.in_english). A
    question in another language: they are its keywords in the English passages. And in MiniLM's view
    (in_english: the index and the question's vector there in English words) each candidate's vector in
    English words (Index.english_vectors) adds its cosine to the multilingual one at TRANSLATED_WEIGHT.

    Filtered, each list is searched among the allowed chunks only, exactly (Index.*_among, search_among),
    rather than taking the top CANDIDATES of the whole corpus and dropping the rest: a narrow filter would
    then keep few candidates or none, however good its own passages are.
    """
    keyword = keyword_scores(query, index, language, in_english)
    if context:
        keyword = keyword + CARRIED_WEIGHT * keyword_scores(context, index, language, in_english)
    if allowed is None:
        dense, sentence = index.dense_scores(vector, CANDIDATES), index.sentence_scores(vector, CANDIDATES)
    else:
        dense = index.dense_scores_among(vector, CANDIDATES, allowed)
        sentence = index.sentence_scores_among(vector, CANDIDATES, allowed)
        kept = np.zeros_like(keyword)  # BM25 scores of the allowed chunks; the rest cannot be candidates
        kept[allowed] = keyword[allowed]
        keyword = kept
    by_keyword = np.argsort(-keyword)[:CANDIDATES]
    ids = sorted(set(dense) | set(sentence) | set(by_keyword[keyword[by_keyword] > 0].tolist()))
    alone, in_context, start = index.sentence_cosines(ids, vector)
    asks_date = asks_for_date(query, context)
    documents = [index.chunks[i].doc_id for i in ids]
    title = {doc_id: index.titles[doc_id] @ vector for doc_id in set(documents)}  # once per document, not chunk
    return Candidates(
        ids,
        chunk_cosine=index.vectors(ids) @ vector + translated_cosine(ids, in_english, language),
        keyword=keyword[ids],
        title=np.array([title[doc_id] for doc_id in documents], dtype=np.float32),
        sentence_cosine=alone,
        context_cosine=in_context,
        answer_type=np.array([mentions_date(index.chunks[i].text) for i in ids] if asks_date else np.zeros(len(ids)),
                             dtype=float),
        sentence_start=start,
        nearest=max([*dense.values(), *sentence.values()], default=0.0),
    )


def translated_cosine(ids: list[int], in_english: tuple[Index, np.ndarray | None] | None, language: str,
                      ) -> np.ndarray:
    """TRANSLATED_WEIGHT times the cosine, in the English view, of a question's English words to each of the
    chunks ids in another language than the question's, in English words (Index.english_vectors): in_english
    is that view and the question's vector there. It brings passages in other languages up to the footing of
    the question's own, never above it: a passage in the question's language gets the best of these, which
    leaves their order among themselves as it was. (Without it, Japanese questions among English and Japanese
    documents found their Japanese passage first 0.33 of the time instead of 0.83; with the cosine of the
    question's English words to theirs, the order among the Japanese passages moved: BENCHMARKS.)"""
    view, vector = in_english or (None, None)
    if view is None or vector is None or not ids:
        return np.zeros(len(ids))
    other = view.languages[ids] != language
    cosine = TRANSLATED_WEIGHT * (view.english_vectors(ids) @ vector) * other
    return np.where(other, cosine, cosine.max() if other.any() else 0.0)


def keyword_scores(query: str, index: Index, language: str = "",
                   in_english: tuple[Index, np.ndarray | None] | None = None) -> np.ndarray:
    """BM25 score of every chunk for query. In the multilingual view (language given), a passage in the
    question's language is scored by the question's own words, any other by the two in English words, each on
    its own scale (top 1), as their BM25 sums are not comparable. Across languages the words a question shares
    with a passage as it is are the odd name or acronym in Latin letters, which the Latin-lettered fragments of
    a document (logos, lists of names) hold most of."""
    keyword = index.keyword_scores(query)
    if not language or index.cross is not None:
        return keyword
    if language != english.LANGUAGE:
        across = index.keyword_scores(text.in_english(query))
    else:
        english_view = in_english[0] if in_english else None
        across = english_view.in_english_keyword_scores(query) if english_view else np.zeros_like(keyword)
    same = index.languages == language
    return _top_one(np.where(same, keyword, 0.0)) + _top_one(np.where(same, 0.0, across))


def _top_one(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max(initial=0.0))
    return scores / top if top > 0 else scores


def allowed_chunks(index: Index, filters: Filters) -> np.ndarray:
    """The numbers of the chunks whose document filters allows, in order."""
    documents = {doc_id for doc_id, document in index.documents.items() if filters.allows(document)}
    return np.array([i for i, chunk in enumerate(index.chunks) if chunk.doc_id in documents], dtype=np.int64)


def asks_for_date(query: str, context: str = "") -> bool:
    """Does the question ask when something happened? Its answer is then a date, and a chunk or sentence
    without one is less likely to hold it (the expected answer type of classic question answering).
    A follow-up without a question word of its own ("And the fourth one?") asks what its context asked."""
    if text.asks_when(query):
        return True
    return bool(context) and not text.has_question_word(query) and text.asks_when(context)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def fuse(found: Candidates) -> np.ndarray:
    """One score per candidate: a weighted sum of its signals, each min-max scaled over the candidates.

    Scaling keeps the raw scores' gaps, which rank fusion (RRF) throws away: a candidate far ahead on one
    side stays far ahead. Chosen over RRF, and the weights over other weights, on the development and
    growth sets (BENCHMARKS.md, "What was tried"; python -m bench.fusion).
    """
    return (DENSE_WEIGHT * scaled(found.chunk_cosine + found.best_sentence)
            + KEYWORD_WEIGHT * scaled(found.keyword)
            + IN_CONTEXT_WEIGHT * scaled(found.best_in_context)
            - TITLE_WEIGHT * scaled(found.title)
            + ANSWER_TYPE_WEIGHT * found.answer_type)


def scaled(x: np.ndarray) -> np.ndarray:
    """x min-max scaled to [0, 1]; all zeros when every value is the same."""
    low, high = x.min(), x.max()
    return (x - low) / (high - low) if high > low else np.zeros_like(x, dtype=float)


def diverse(ranked: list[tuple[int, float]], chunks: list[Chunk], k: int) -> list[tuple[int, float]]:
    """Keep k passages, best first, with their scores as ranked here. ranked: (chunk number, score), best first.

    A passage that repeats one already kept almost word for word is skipped. A passage loses
    same_document_penalty(n) when n passages of its document are already kept: one step for the first,
    two more for the second, three more for the third. So a question spanning documents sees several of
    them, while a clearly better passage of the same document still comes first; the growing step lets a
    second passage of one document in easily and a fourth hardly (multi-document coverage 0.78 -> 0.81,
    nothing else changed: BENCHMARKS.md).
    """
    # A document's passages all lose the same, so the best of the pool is the best left of some document: its first
    # as ranked (best first). A pick compares one passage per document, not every passage.
    left: dict[str, deque[tuple[int, int, float]]] = {}  # each document's passages not yet picked: (rank, i, score)
    for rank, (i, score) in enumerate(ranked):
        left.setdefault(chunks[i].doc_id, deque()).append((rank, i, score))
    kept: list[tuple[int, float]] = []
    kept_words: list[frozenset[str]] = []
    per_document: Counter[str] = Counter()
    while left and len(kept) < k:
        # the best adjusted score; of equals, the first as ranked (ranks differ, so doc_id never decides)
        adjusted, _, doc_id = max((queue[0][2] - same_document_penalty(per_document[doc_id]), -queue[0][0], doc_id)
                                  for doc_id, queue in left.items())
        _, i, _ = left[doc_id].popleft()
        if not left[doc_id]:
            del left[doc_id]
        words = _words(chunks[i].text)
        if any(_overlap(words, other) > 0.8 for other in kept_words):
            continue
        kept.append((i, adjusted))
        kept_words.append(words)
        per_document[doc_id] += 1
    return kept


def same_document_penalty(shown: int) -> float:
    """What a passage loses when shown passages of its document are already kept: 0.05, 0.15, 0.3, ..."""
    return SAME_DOCUMENT_PENALTY * shown * (shown + 1) / 2


@functools.lru_cache(maxsize=1 << 14)  # the same passages are ranked for every question
def _words(passage: str) -> frozenset[str]:
    return frozenset(WORD.findall(passage.lower()))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    # Jaccard: similar both ways. (Shared words over the smaller set dropped a short passage whose
    # words all recur in a longer one, e.g. a dateline paragraph holding the date that was asked for.)
    shared = len(a & b)
    return shared / max(1, len(a) + len(b) - shared)  # the union's size, without building the union


def _passage(index: Index, i: int, score: float, relevance: float, highlight: tuple[int, int]) -> Passage:
    chunk = index.chunks[i]
    document: Document = index.documents[chunk.doc_id]
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
        highlight=highlight,
        relevance=round(float(relevance), 4),
        context=chunk.context,
        language=document.language,
    )
