"""Which sentence of a passage to quote: the one that best answers the question, and the one after it."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from qa import text as analysis
from qa.chunks import ITEM
from qa.dates import MENTIONS_DATE
from qa.text import sentence_spans

ANSWER_TYPE_WEIGHT = 0.1  # added: the chunk, or the sentence to quote, holds a date and the question asks "when"
MIN_ANSWER_WORDS = 5  # shorter "sentences" are headings or list labels: they name a topic but answer nothing
NOT_A_STATEMENT = 2.0  # taken off a heading's, label's or lead-in's quote score: quoted only where nothing else is
UNFINISHED_LINE = 0.15  # taken off a longer line without a full stop, e.g. a slide's (BENCHMARKS.md)
DATE_IN_TEXT = MENTIONS_DATE  # a year, a day and month, "today" or 本日 (qa.dates), English or Japanese


def best_sentence(text: str, cosines: np.ndarray, terms: frozenset[str], weights: dict[str, float],
                   asks_date: bool) -> tuple[int, int]:
    """The sentence that best matches, and the one after it: the span to highlight and quote.

    Best match: closest in meaning (cosines: the mean of the sentence's alone and in context, one per
    sentence), plus the share of the question's terms it holds, each weighted by its rarity (weights:
    index.idf; a rare "co-chaired" says more than "council" in a corpus about councils), plus
    ANSWER_TYPE_WEIGHT for a sentence holding a date when asks_date (a "when" question). The sentence that matches a
    question best often restates it ("The partnership was signed ...") and the next one holds the answer
    ("... by Thierry Breton"), so the next sentence is quoted too (measured: BENCHMARKS.md).
    """
    read = sentences(text)
    total = math.fsum(weights.values()) or 1.0
    overlap = np.array([_share(held, terms, weights, total) for held in read.terms])
    scores = cosines + overlap - read.penalty
    if asks_date:
        scores += ANSWER_TYPE_WEIGHT * read.dated
    best = int(np.argmax(scores))
    last = best + 1 if best + 1 < len(read.spans) else best
    return read.spans[best][0], read.spans[last][1]


@dataclass(frozen=True)
class Sentences:
    """A passage's sentences as best_sentence weighs them, whatever the question: read once per passage."""

    spans: tuple[tuple[int, int], ...]  # sentence_spans: in the order of the stored sentence vectors
    terms: tuple[frozenset[str], ...]  # each sentence's keyword terms
    penalty: np.ndarray  # each sentence's quote_penalty
    dated: np.ndarray  # whether each sentence mentions a date (bool)


@functools.lru_cache(maxsize=1 << 14)
def sentences(text: str) -> Sentences:
    """text's sentences read for best_sentence. Cached by text: the same passages come back question after question,
    and splitting and reading their sentences took most of a question's work beyond embedding it."""
    spans = sentence_spans(text)
    parts = [text[s:e] for s, e in spans]
    penalty = np.array([quote_penalty(part) for part in parts])
    dated = np.array([DATE_IN_TEXT.search(part) is not None for part in parts])
    penalty.flags.writeable = dated.flags.writeable = False  # shared by every caller
    return Sentences(tuple(spans), tuple(analysis.terms(part) for part in parts), penalty, dated)


@functools.lru_cache(maxsize=1 << 14)
def mentions_date(text: str) -> bool:
    """Does text mention a date (DATE_IN_TEXT)? Cached by text, for passages: the pattern has many alternatives and
    no fixed first letter, so a search reads the whole text at each position (about 0.2 ms a passage)."""
    return DATE_IN_TEXT.search(text) is not None


def term_share(text: str, terms: frozenset[str], weights: dict[str, float]) -> float:
    """The share of the question's terms that text holds, each counted by its weight (index.idf).

    Summed exactly (math.fsum): a plain sum depends on the order of the terms, which for a set changes with
    each process's string hashing, so a text holding every term could score a hair above or below 1.
    """
    return _share(analysis.terms(text), terms, weights, math.fsum(weights.values()) or 1.0)


def _share(held: frozenset[str], terms: frozenset[str], weights: dict[str, float], total: float) -> float:
    return math.fsum(weights[t] for t in terms & held) / total


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
