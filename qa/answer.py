"""Answer a question with sentences quoted from the best passages, or say that nothing answers it."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa import config, conversation, text
from qa.build import open_index
from qa.conversation import Reading
from qa.filters import Filters
from qa.index import Index
from qa.question import check_k, clean_history, clean_question, cut_notice
from qa.quote import is_statement
from qa.retrieve import Passage, search
from qa.text import english, split_sentences

NOTHING_FOUND = "Nothing in the documents answers this question."
NO_DOCUMENT_MATCHES = "No document matches the filters (dates, publishers, documents); widen or remove them."
MAX_SENTENCES = 3
CHECKED = 5  # what a question pins (a number, an amount of money) must be in one of this many best passages


@dataclass(frozen=True)
class Answer:
    """A short quoted answer with [n] markers, and the passages it cites (empty when abstaining)."""

    question: str
    text: str
    passages: tuple[Passage, ...]
    closest: tuple[Passage, ...] = ()  # when abstaining: the nearest passages, for a clearly marked low-confidence view
    notice: str = ""  # something the asker should know, e.g. that a very long question was cut
    corrected: str = ""  # the question with its typos corrected, when it had any: what was searched
    follows: str = ""  # the earlier question this one was read together with, when it leans on it ("And the second?")
    small_talk: bool = False  # a greeting, thanks or a request for help: text says what the assistant covers

    @property
    def abstained(self) -> bool:
        """Nothing in the documents answers the question (small talk is answered, without passages)."""
        return not self.passages and not self.small_talk


def answer(
    question: str,
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
) -> Answer:
    """Answer question from the corpus: one to three quoted sentences and the passages they come from.

    history: the conversation's earlier questions, oldest first; a follow-up is read with the ones it leans
    on (Answer.follows says which), and typos are corrected against the documents' words (Answer.corrected).
    Greetings, thanks and requests for help get a reply saying what the assistant covers (Answer.small_talk).
    since, until, publishers and documents narrow the documents answers may come from, as in retrieve().
    When they allow none, the answer abstains with NO_DOCUMENT_MATCHES.

    Raises:
        BadQuestion: the question has no words to search for, or k is below 1.
        BadFilter: a date is not a year, a month or a day, or since is after until.
    """
    notice = cut_notice(question)  # checks the question before opening the index, which may mean building it
    question = clean_question(question)
    check_k(k)
    filters = Filters.of(since, until, publishers, documents)
    history = clean_history(history)
    index = index or open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    if kind := conversation.small_talk(question):
        return Answer(question, conversation.small_talk_reply(kind, index), (), small_talk=True)
    if filters != Filters() and not any(filters.allows(document) for document in index.documents.values()):
        return Answer(question, NO_DOCUMENT_MATCHES, (), notice=notice)
    reading = conversation.understand(question, history, index)
    asked = text.detect(question)
    found, evidence = search(reading.question, max(k, CHECKED), index, filters, context=reading.context,
                             language=asked if reading.question == question else "")  # else read again, corrected
    passages = found[:k]
    unsupported = why_unsupported(reading, found[:CHECKED], index)
    notice = " ".join(part for part in (notice, unsupported) if part)
    notice = " ".join(part for part in (notice, other_language(asked, passages)) if part)
    understood = {"corrected": reading.corrected, "follows": reading.follows}
    if not passages or evidence <= threshold(index) or unsupported:
        return Answer(question, NOTHING_FOUND, (), tuple(passages), notice=notice, **understood)
    return Answer(question, compose(passages), tuple(passages), notice=notice, **understood)


def other_language(asked: str, passages: list[Passage]) -> str:
    """What to tell the asker when the passages are in another language than the question's, asked (text.detect):
    they are quoted as their documents write them, not translated. Said in the language asked
    (text.quoted_as_written)."""
    languages = sorted({p.language for p in passages if p.language and p.language != asked})
    return text.quoted_as_written(asked, languages) if languages else ""


def why_unsupported(reading: Reading, passages: list[Passage], index: Index) -> str:
    """Why passages cannot answer the question, however close they come; "" when nothing stands in the way.

    The evidence score measures closeness to the corpus; a question close in every word can still ask
    for what no passage holds: a name no document mentions, a number no close passage holds, an amount of
    money where the close passages state none. A follow-up asks what its context asks, but a number of its
    own replaces its context's: "And the second one?" after a question on the third council.
    """
    question = reading.question
    if unknown := unknown_names(f"{reading.context} {question}".strip(), index):
        return f"The documents never mention {', '.join(unknown)}."
    pins = question if text.pinned_numbers(question) or not reading.context else reading.context
    if unheld := unheld_numbers(pins, passages):
        return f"The passages closest to the question never mention {', '.join(unheld)}."
    if text.asks_money(f"{reading.context} {question}") and not any(
            text.states_money(f"{p.title} {p.context} {p.text}") for p in passages):
        return "The passages closest to the question state no amount of money."
    return ""


def threshold(index: Index) -> float:
    """The evidence at or below which a question is taken to be about something the corpus does not cover.

    Calibrated on the corpus itself, not a fixed number: the most evidence any of the everyday
    off-topic probe questions (qa/probes.py) found in this corpus when the index was built.
    """
    scores = index.manifest.get("probe_scores") or [0.0]
    return max(scores)


def unknown_names(question: str, index: Index) -> list[str]:
    """The names, acronyms and numbers in question (text.names) that no document mentions (Index.mentions).

    A question about the EU and India is not answered from passages about the EU and Japan, however
    close they come: the evidence score cannot tell them apart, the name can. A name is looked for only where
    documents are written in its script: "日本" in a question is not missing from English documents that say
    "Japan" (names are not translated here, so in a corpus without Japanese documents Japanese names go unchecked).
    """
    written = {document.language or english.LANGUAGE for document in index.documents.values()}
    return [name for name in text.names(question) if text.script_language(name) in written
            and not any(index.mentions(form) for form in english.spellings(name))]


def unheld_numbers(question: str, passages: list[Passage]) -> list[str]:
    """The numbers question pins that none of passages holds, in its text, title, date or heading.

    Numbers are not paraphrased: a question about the fifth council in 2027 is not answered by passages
    about the third council in 2025, though every word but the numbers matches and the corpus mentions
    2027 elsewhere. A pinned number is one in figures (a year, an amount, "28th", "第5回") or an ordinal from
    "second" on; "first" also means "earliest" ("where did he first propose it") and is left out.
    Figures and words up to twelve stand for each other ("2" and "two", "fifth" and "5th"), and a passage in another
    language holds them as English would write them too ("第2回" holds "second": text.spelled_in_english).
    """
    pinned = text.pinned_numbers(question)
    if not pinned:  # most questions: no passage needs reading
        return []
    texts = [english.figures(f"{p.title} {p.date} {p.context} {p.text}") for p in passages]
    texts += [english.figures(text.spelled_in_english(f"{p.title} {p.context} {p.text}"))
              for p in passages if p.language not in ("", english.LANGUAGE)]
    return [number for number in pinned
            if not any(re.search(english.figure_pattern(number), passage) for passage in texts)]


def compose(passages: list[Passage]) -> str:
    """Quote the best sentence of the top passage, and of the next ones when they are nearly as relevant."""
    best = passages[0].relevance
    quotes, sentences = [], 0
    for number, passage in enumerate(passages, start=1):
        quote = passage.quote.strip()
        count = _sentence_count(quote)
        if number > 1 and (sentences + count > MAX_SENTENCES or not is_statement(quote)):
            continue  # past three sentences, or a heading or label, which names a topic but answers nothing
        if number == 1 or passage.relevance >= 0.95 * best:
            quotes.append(f"{' '.join(quote.split())} [{number}]")
            sentences += count
    return " ".join(quotes)


@functools.lru_cache(maxsize=1 << 12)
def _sentence_count(quote: str) -> int:
    # cached by the quote: the same passages' sentences are quoted question after question
    return len(split_sentences(quote))
