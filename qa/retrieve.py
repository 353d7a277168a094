"""Find the passages that answer a question: dense and keyword search, then a second look at every
sentence of the candidates, alone and after its title and heading, fused into one score."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import config, conversation
from qa.chunks import ITEM, Chunk, sentence_spans
from qa.documents import MONTH, Document
from qa.errors import BadFilter, BadQuestion
from qa.index import Index, open_index, query_terms

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000  # longer questions are cut, and the asker told (cut_notice)
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
ANSWER_TYPE_WEIGHT = 0.1  # added: the chunk, or the sentence to quote, holds a date and the question asks "when"
SAME_DOCUMENT_PENALTY = 0.05  # off a passage's fused score for its document's 1st passage already shown, 0.1 more
                              # for the 2nd, 0.15 more for the 3rd, ... (diverse)
MIN_ANSWER_WORDS = 5  # shorter "sentences" are headings or list labels: they name a topic but answer nothing
NOT_A_STATEMENT = 2.0  # taken off a heading's, label's or lead-in's quote score: quoted only where nothing else is
UNFINISHED_LINE = 0.15  # taken off a longer line without a full stop, e.g. a slide's (BENCHMARKS.md)
WORD = re.compile(r"\w+")
QUESTION_WORD = re.compile(r"\b(?:who|whom|whose|what|when|where|which|why|how)\b", re.IGNORECASE)
DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)  # YYYY, YYYY-MM or YYYY-MM-DD, in 0-9
DATE_FORMS = "a year (2025), a month (2025-05) or a day (2025-05-12)"
# A question asking for a date ("When ...", "Since when ...", "On what date ...") and a date in a text
WHEN_QUESTION = re.compile(r"^\W*(?:(?:and|since|until|by|about)\s+)*when\b|\b(?:what|which) (?:date|day|month|year)\b",
                           re.IGNORECASE)
DATE_IN_TEXT = re.compile(rf"\b(?:1[89]|20)\d\d\b|\b{MONTH}\s+\d|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}"
                          r"|\btoday\b", re.IGNORECASE)  # "today", in a dated press release, is its date


@dataclass(frozen=True)
class Filters:
    """Which documents passages may come from; the default, Filters(), allows every document.

    since and until are inclusive and may be a year, a month or a day: since="2025" starts on 2025-01-01,
    until="2024-05" ends on 2024-05-31. A document without a date is left out when either is set.
    publishers match Document.publisher whole, ignoring case; documents are doc_ids. Several names allow any of them.
    """

    since: str = ""
    until: str = ""
    publishers: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        first, last = self.first_day, self.last_day  # a malformed date raises here, not at the first document
        if first and last and first > last:
            raise BadFilter(f"The start date {self.since} is after the end date {self.until}; swap them.")

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None, publishers=None, documents=None) -> Filters:
        """Filters from arguments as callers have them: None or "" for no bound, any iterable of names (or one name).

        Raises:
            BadFilter: a date is not a year, a month or a day, or the start is after the end.
        """
        # NFKC: a date typed in full-width digits ("２０２５", as Japanese keyboards do) is the same date
        since, until = (unicodedata.normalize("NFKC", date or "").strip() for date in (since, until))
        return cls(since, until, _names(publishers), _names(documents))

    @property
    def first_day(self) -> str:
        return _padded(self.since, "-01", "-01")

    @property
    def last_day(self) -> str:
        # "-31" closes every month: ISO dates compare as strings, and no real date is after the 31st
        return _padded(self.until, "-12", "-31")

    def allows(self, document: Document) -> bool:
        """May passages of this document be returned?"""
        if self.documents and document.doc_id not in self.documents:
            return False
        if self.publishers and document.publisher.strip().casefold() not in {p.casefold() for p in self.publishers}:
            return False
        if self.since or self.until:
            dated = DATE.match(document.date)
            day = dated.group() if dated else ""
            return bool(day) and (not self.since or day >= self.first_day) and (not self.until or day <= self.last_day)
        return True


def _padded(date: str, month: str, day: str) -> str:
    """date as YYYY-MM-DD, the missing month and day filled in; "" stays ""."""
    if not date:
        return ""
    parts = DATE.fullmatch(date)
    try:
        if parts is None:
            raise ValueError
        dt.date(int(parts[1]), int(parts[2] or 1), int(parts[3] or 1))  # a real month and day
    except ValueError:
        raise BadFilter(f"Cannot read the date {date!r}: give {DATE_FORMS}.") from None
    return date + (month + day if parts[2] is None else day if parts[3] is None else "")


def _names(names) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        names = [names]
    return tuple(name.strip() for name in names if name and name.strip())


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


def search(query: str, k: int, index: Index, filters: Filters = Filters(), context: str = "",
           ) -> tuple[list[Passage], float]:
    """The k best passages for query from the documents filters allows, and how much evidence those documents
    hold for it (see index.evidence). Nothing, and no evidence, when filters allows no document.

    context: earlier questions query leans on (conversation.read), searched with it: their vector and keyword
    scores are added at CARRIED_WEIGHT, their terms count for the quote and the evidence.
    """
    query = clean_question(query)
    allowed = None if filters == Filters() else allowed_chunks(index, filters)
    if not index.chunks or k < 1 or (allowed is not None and not len(allowed)):
        return [], 0.0
    vectors = index.embedder.embed([query, context] if context else [query])
    vector = _unit(vectors[0] + CARRIED_WEIGHT * vectors[1]) if context else vectors[0]
    found = candidates(query, vector, index, allowed, context)
    relevance = np.maximum(found.chunk_cosine, found.best_sentence)
    fused = fuse(found)
    ranked = [(found.ids[j], float(fused[j])) for j in np.argsort(-fused)]
    at = {i: j for j, i in enumerate(found.ids)}
    terms = query_terms(query) | query_terms(context)
    weights = index.idf(terms)
    asks_date = asks_for_date(query, context)
    passages = [
        _passage(index, i, score, relevance[at[i]], _best_sentence(index, i, np.mean(found.sentences_of(at[i]), axis=0),
                                                                  terms, weights, asks_date))
        for i, score in diverse(ranked, index.chunks, k)
    ]
    return passages, index.evidence(vector, terms) if allowed is None else index.evidence_among(vector, terms, allowed)


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

    def sentences_of(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The cosines of candidate j's sentences, in order: alone, and in context."""
        start, end = self.sentence_start[j], self.sentence_start[j + 1]
        return self.sentence_cosine[start:end], self.context_cosine[start:end]

    @property
    def best_sentence(self) -> np.ndarray:
        return np.maximum.reduceat(self.sentence_cosine, self.sentence_start[:-1])

    @property
    def best_in_context(self) -> np.ndarray:
        return np.maximum.reduceat(self.context_cosine, self.sentence_start[:-1])


def candidates(query: str, vector: np.ndarray, index: Index, allowed: np.ndarray | None = None,
               context: str = "") -> Candidates:
    """The CANDIDATES best chunks by chunk vector, by sentence vector and by keywords, together, with the
    question compared to each chunk and to every sentence in it: the second look. allowed: chunk numbers
    to search among (None: all). context: the earlier questions query leans on, their BM25 scores added at
    CARRIED_WEIGHT (vector already holds theirs).

    Filtered, each list is searched among the allowed chunks only, exactly (Index.*_among, search_among),
    rather than taking the top CANDIDATES of the whole corpus and dropping the rest: a narrow filter would
    then keep few candidates or none, however good its own passages are.
    """
    keyword = index.keyword_scores(query)
    if context:
        keyword = keyword + CARRIED_WEIGHT * index.keyword_scores(context)
    if allowed is None:
        dense, sentence = index.dense_scores(vector, CANDIDATES), index.sentence_scores(vector, CANDIDATES)
    else:
        dense = index.dense_scores_among(vector, CANDIDATES, allowed)
        sentence = index.sentence_scores_among(vector, CANDIDATES, allowed)
        kept = np.zeros_like(keyword)  # BM25 scores of the allowed chunks; the rest cannot be candidates
        kept[allowed] = keyword[allowed]
        keyword = kept
    ids = sorted(set(dense) | set(sentence) | {int(i) for i in np.argsort(-keyword)[:CANDIDATES] if keyword[i] > 0})
    alone, in_context, start = index.sentence_cosines(ids, vector)
    asks_date = asks_for_date(query, context)
    return Candidates(
        ids,
        chunk_cosine=index.vectors(ids) @ vector,
        keyword=keyword[ids],
        title=np.array([index.titles[index.chunks[i].doc_id] @ vector for i in ids], dtype=np.float32),
        sentence_cosine=alone,
        context_cosine=in_context,
        answer_type=np.array([asks_date and DATE_IN_TEXT.search(index.chunks[i].text) is not None for i in ids],
                             dtype=float),
        sentence_start=start,
    )


def allowed_chunks(index: Index, filters: Filters) -> np.ndarray:
    """The numbers of the chunks whose document filters allows, in order."""
    documents = {doc_id for doc_id, document in index.documents.items() if filters.allows(document)}
    return np.array([i for i, chunk in enumerate(index.chunks) if chunk.doc_id in documents], dtype=np.int64)


def asks_for_date(query: str, context: str = "") -> bool:
    """Does the question ask when something happened? Its answer is then a date, and a chunk or sentence
    without one is less likely to hold it (the expected answer type of classic question answering).
    A follow-up without a question word of its own ("And the fourth one?") asks what its context asked."""
    if WHEN_QUESTION.search(query):
        return True
    return bool(context) and not QUESTION_WORD.search(query) and WHEN_QUESTION.search(context) is not None


def check_k(k: int) -> None:
    """Raise BadQuestion unless k, how many passages to return, is a whole number of at least 1."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise BadQuestion(f"k is how many passages to return: give a whole number of 1 or more, not {k!r}.")


def clean_history(history: Sequence[str]) -> list[str]:
    """The earlier questions as they will be read: cleaned as questions are, those without a word left out."""
    if isinstance(history, str):
        history = [history]
    return [clean_question(q) for q in history if isinstance(q, str) and WORD.search(_printable(q))]


def clean_question(query: str) -> str:
    """The question as it will be searched: control characters removed, whitespace folded, length capped."""
    return _folded(query)[:MAX_QUESTION_CHARS]


def cut_notice(query: str) -> str:
    """What to tell the asker when the question was too long to search whole; "" when it was not."""
    length = len(_folded(query))
    if length <= MAX_QUESTION_CHARS:
        return ""
    return (f"Your question is {length:,} characters long; only its first {MAX_QUESTION_CHARS:,} were searched. "
            "Ask about one thing at a time for better answers.")


def _folded(query: str) -> str:
    if not isinstance(query, str):
        raise BadQuestion("The question must be text.")
    text = _printable(query)
    if not WORD.search(text):
        raise BadQuestion("Please type a question with at least one word in it.")
    return text


def _printable(text: str) -> str:
    """text with control and other unprintable characters as spaces, and whitespace folded."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


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
    low, high = float(np.min(x)), float(np.max(x))
    return (x - low) / (high - low) if high > low else np.zeros_like(x, dtype=float)


def diverse(ranked: list[tuple[int, float]], chunks: list[Chunk], k: int) -> list[tuple[int, float]]:
    """Keep k passages, best first, with their scores as ranked here.

    A passage that repeats one already kept almost word for word is skipped. A passage loses
    same_document_penalty(n) when n passages of its document are already kept: one step for the first,
    two more for the second, three more for the third. So a question spanning documents sees several of
    them, while a clearly better passage of the same document still comes first; the growing step lets a
    second passage of one document in easily and a fourth hardly (multi-document coverage 0.78 -> 0.81,
    nothing else changed: BENCHMARKS.md).
    """
    pool = list(ranked)
    kept: list[tuple[int, float]] = []
    kept_words: list[set[str]] = []
    per_document: Counter[str] = Counter()
    while pool and len(kept) < k:
        adjusted = [score - same_document_penalty(per_document[chunks[i].doc_id]) for i, score in pool]
        best = int(np.argmax(adjusted))  # the first of equals, as ranked
        i, _ = pool.pop(best)
        words = set(WORD.findall(chunks[i].text.lower()))
        if any(_overlap(words, other) > 0.8 for other in kept_words):
            continue
        kept.append((i, adjusted[best]))
        kept_words.append(words)
        per_document[chunks[i].doc_id] += 1
    return kept


def same_document_penalty(shown: int) -> float:
    """What a passage loses when shown passages of its document are already kept: 0.05, 0.15, 0.3, ..."""
    return SAME_DOCUMENT_PENALTY * shown * (shown + 1) / 2


def _overlap(a: set[str], b: set[str]) -> float:
    # Jaccard: similar both ways. (Shared words over the smaller set dropped a short passage whose
    # words all recur in a longer one, e.g. a dateline paragraph holding the date that was asked for.)
    return len(a & b) / max(1, len(a | b))


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
    )


def _best_sentence(index: Index, i: int, cosines: np.ndarray, terms: frozenset[str], weights: dict[str, float],
                   asks_date: bool) -> tuple[int, int]:
    """The sentence that best matches, and the one after it: the span to highlight and quote.

    Best match: closest in meaning (cosines: the mean of the sentence's alone and in context, one per
    sentence), plus the share of the question's terms it holds, each weighted by its rarity (weights:
    index.idf; a rare "co-chaired" says more than "council" in a corpus about councils), plus
    ANSWER_TYPE_WEIGHT for a sentence holding a date when asks_date (a "when" question). The sentence that matches a
    question best often restates it ("The partnership was signed ...") and the next one holds the answer
    ("... by Thierry Breton"), so the next sentence is quoted too (measured: BENCHMARKS.md).
    """
    text = index.chunks[i].text
    spans = sentence_spans(text)  # the same spans, in the same order, as the stored sentence vectors
    overlap = np.array([term_share(text[s:e], terms, weights) for s, e in spans])
    scores = cosines + overlap - np.array([quote_penalty(text[s:e]) for s, e in spans])
    if asks_date:
        scores += ANSWER_TYPE_WEIGHT * np.array([DATE_IN_TEXT.search(text[s:e]) is not None for s, e in spans])
    best = int(np.argmax(scores))
    last = best + 1 if best + 1 < len(spans) else best
    return spans[best][0], spans[last][1]


def term_share(text: str, terms: frozenset[str], weights: dict[str, float]) -> float:
    """The share of the question's terms that text holds, each counted by its weight (index.idf).

    Summed exactly (math.fsum): a plain sum depends on the order of the terms, which for a set changes with
    each process's string hashing, so a text holding every term could score a hair above or below 1.
    """
    return math.fsum(weights[t] for t in terms & query_terms(text)) / (math.fsum(weights.values()) or 1.0)


def quote_penalty(sentence: str) -> float:
    """How much less a sentence is worth quoting than a full sentence that matches as well.

    Headings, labels, lead-ins and questions answer nothing (NOT_A_STATEMENT). A line of five words or
    more without a full stop may: slides state facts that way ("Term and budget : Up to 100 million yen
    per year"), but so do long headings, so a full sentence or list item goes first when it matches
    about as well.
    """
    if is_statement(sentence):
        return 0.0
    return NOT_A_STATEMENT if _names_a_topic(sentence.strip()) else UNFINISHED_LINE


def is_statement(sentence: str) -> bool:
    """A sentence that can answer: five words or more, and a full sentence or a list item, not a
    heading, a label, a lead-in ending in ':' or a question."""
    text = sentence.strip()
    if _names_a_topic(text):
        return False
    return text.rstrip("*_ ").endswith((".", "!", "”", '"', ")")) or ITEM.match(text) is not None


def _names_a_topic(text: str) -> bool:
    """Too short to answer, or a lead-in or a question: it names a topic without saying anything of it."""
    return len(text.split()) < MIN_ANSWER_WORDS or text.rstrip("*_ ").endswith((":", "?"))
