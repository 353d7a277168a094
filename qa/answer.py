"""Answer a question with sentences quoted from the best passages, or say that nothing answers it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa import config
from qa.chunks import ABBREVIATIONS, split_sentences
from qa.index import Index, open_index
from qa.retrieve import WORD, Filters, Passage, clean_question, cut_notice, is_statement, search

NOTHING_FOUND = "Nothing in the documents answers this question."
NO_DOCUMENT_MATCHES = "No document matches the filters (dates, publishers, documents); widen or remove them."
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Answer:
    """A short quoted answer with [n] markers, and the passages it cites (empty when abstaining)."""

    question: str
    text: str
    passages: tuple[Passage, ...]
    closest: tuple[Passage, ...] = ()  # when abstaining: the nearest passages, for a clearly marked low-confidence view
    notice: str = ""  # something the asker should know, e.g. that a very long question was cut

    @property
    def abstained(self) -> bool:
        return not self.passages


def answer(
    question: str,
    k: int = 5,
    *,
    index: Index | None = None,
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    since: str | None = None,
    until: str | None = None,
    publishers: Iterable[str] | None = None,
    documents: Iterable[str] | None = None,
) -> Answer:
    """Answer question from the corpus: one to three quoted sentences and the passages they come from.

    since, until, publishers and documents narrow the documents answers may come from, as in retrieve().
    When they allow none, the answer abstains with NO_DOCUMENT_MATCHES.

    Raises:
        BadQuestion: the question has no words to search for.
        BadFilter: a date is not a year, a month or a day, or since is after until.
    """
    notice = cut_notice(question)  # checks the question before opening the index, which may mean building it
    question = clean_question(question)
    filters = Filters.of(since, until, publishers, documents)
    index = index or open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    if filters != Filters() and not any(filters.allows(document) for document in index.documents.values()):
        return Answer(question, NO_DOCUMENT_MATCHES, (), notice=notice)
    passages, evidence = search(question, k, index, filters)
    if unknown := unknown_names(question, index):
        notice = " ".join(part for part in (notice, f"The documents never mention {', '.join(unknown)}.") if part)
    if not passages or evidence <= threshold(index) or unknown:
        return Answer(question, NOTHING_FOUND, (), tuple(passages), notice=notice)
    return Answer(question, compose(passages), tuple(passages), notice=notice)


def threshold(index: Index) -> float:
    """The evidence at or below which a question is taken to be about something the corpus does not cover.

    Calibrated on the corpus itself, not a fixed number: the most evidence any of the everyday
    off-topic probe questions (qa/probes.py) found in this corpus when the index was built.
    """
    scores = index.manifest.get("probe_scores") or [0.0]
    return max(scores)


def unknown_names(question: str, index: Index) -> list[str]:
    """The names, acronyms and numbers in question that no document mentions (Index.mentions).

    A question about the EU and India is not answered from passages about the EU and Japan, however
    close they come: the evidence score cannot tell them apart, the name can. A name is a capitalised
    word after the first of its sentence, other than a title such as "Ms"; in a sentence written in
    title case or capitals the capitals say nothing, and only numbers count.
    """
    names = []
    for start, end in split_sentences(question):
        words = WORD.findall(question[start:end])
        title_case = sum(word[0].isupper() for word in words) > len(words) / 2
        names += [word for position, word in enumerate(words) if any(ch.isdigit() for ch in word)
                  or (position and not title_case and word[0].isupper() and len(word) > 1
                      and word.lower() not in ABBREVIATIONS)]
    return [name for name in dict.fromkeys(names) if not index.mentions(name)]


def compose(passages: list[Passage]) -> str:
    """Quote the best sentence of the top passage, and of the next ones when they are nearly as relevant."""
    best = passages[0].relevance
    quotes, sentences = [], 0
    for number, passage in enumerate(passages, start=1):
        quote = passage.quote.strip()
        count = len(split_sentences(quote))
        if number > 1 and (sentences + count > MAX_SENTENCES or not is_statement(quote)):
            continue  # past three sentences, or a heading or label, which names a topic but answers nothing
        if number == 1 or passage.relevance >= 0.95 * best:
            quotes.append(f"{' '.join(quote.split())} [{number}]")
            sentences += count
    return " ".join(quotes)
