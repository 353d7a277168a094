"""Text analysis, for every language at once: which language a text is in, its sentences, its words as the
keyword index sees them, its names and numbers, and what a question asks for.

One analyser per language, a module with the same names in each (english.py, japanese.py): its SCRIPT (the
characters it reads), words(), sentence_ends(), names(), PINNED_NUMBER, QUESTION_WORD, ASKS_WHEN, ASKS_MONEY,
MONEY, CONTINUATION and PRONOUN; NAME, QUOTED_AS_WRITTEN and JOIN for the note on sources in another language; and,
for a language other than English, in_english() and before_english() (English words for its text, where it has a
bilingual dictionary). A text is cut into runs of one script and each run goes to the analyser that reads it,
English taking whatever no other claims; so a Japanese sentence quoting "MIRAI-HARMONY" keeps that word as an
English question would. A question's cues are looked for in every language: their patterns do not overlap. Adding a
language means adding its module to ANALYSERS (and to LANGUAGES for detection).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from qa.text import english, japanese

ANALYSERS = (japanese, english)  # the first whose SCRIPT matches reads a run; English reads the rest
DEFAULT = english
LANGUAGES = tuple(analyser.LANGUAGE for analyser in ANALYSERS)  # what detect() tells apart: the ones served
_SCRIPTS = re.compile("|".join(f"({analyser.SCRIPT.pattern})" for analyser in ANALYSERS if analyser is not DEFAULT))
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
KANA_SHARE = 0.1  # kana among a text's letters from which it is Japanese whatever lingua says
_OTHERS = [analyser for analyser in ANALYSERS if analyser is not DEFAULT]
LINE = re.compile(r"[^\n]+")
LETTER = re.compile(r"[^\W\d_]")


def runs(text: str) -> list[tuple[object, str]]:
    """text cut into (analyser, run) pairs, in order, each run in one analyser's script."""
    out, at = [], 0
    for match in _SCRIPTS.finditer(text):
        if match.start() > at:
            out.append((DEFAULT, text[at : match.start()]))
        out.append((_OTHERS[match.lastindex - 1], match.group()))
        at = match.end()
    if at < len(text):
        out.append((DEFAULT, text[at:]))
    return out


def words(text: str) -> list[str]:
    """The keyword terms of text, in order: each run's words as its analyser sees them (NFKC first, so
    full-width "ＥＵ" is "eu")."""
    return [word for analyser, run in runs(unicodedata.normalize("NFKC", text)) for word in analyser.words(run)]


@functools.lru_cache(maxsize=1 << 12)
def in_english(text: str) -> str:
    """text with each run in another language replaced by English words for it (its analyser's in_english, a
    bilingual dictionary's glosses; nothing for an analyser without one): a question or a passage as an English
    reader of keywords and MiniLM sees it. English runs (names, acronyms) stay as they are. Each analyser first
    writes in English words what spans runs (its before_english: "第2回" is "second")."""
    return " ".join(run if analyser is DEFAULT else " ".join(getattr(analyser, "in_english", lambda run: [])(run))
                    for analyser, run in runs(spelled_in_english(text)))


def spelled_in_english(text: str) -> str:
    """text (NFKC) with what each analyser writes in English words across its runs (before_english): "第2回" is
    " second 回", "5月" " May ". Cheap (patterns only): the numbers rule reads passages in other languages so."""
    text = unicodedata.normalize("NFKC", text)
    for analyser in _OTHERS:
        text = getattr(analyser, "before_english", lambda whole: whole)(text)
    return text


@functools.lru_cache(maxsize=1 << 16)
def terms(text: str) -> frozenset[str]:
    """The distinct keyword terms of text. Cached: the second look asks this of the same candidate sentences
    for every question."""
    return frozenset(words(text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in text: every line is cut where any analyser ends a sentence in it
    (". " before a capital in English, "。" in Japanese); a piece without a letter (a list number, "8.")
    belongs to the sentence after it."""
    spans: list[tuple[int, int]] = []
    for line in LINE.finditer(text):
        start = line.start()
        ends = sorted({line.start() + end for analyser in ANALYSERS for end in analyser.sentence_ends(line.group())})
        for end in ends:
            if not LETTER.search(text, start, end):
                continue
            spans.append(strip_span(text, start, end))
            start = end
        spans.append(strip_span(text, start, line.end()))
    return [span for span in spans if span[1] > span[0]]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """A chunk's sentences as they are embedded and quoted: split_sentences, or the whole text if it has none.

    The index stores one vector per span in this order, so every user must derive them here.
    """
    return split_sentences(text) or [(0, len(text))]


def names(text: str) -> list[str]:
    """The names and numbers in text that the documents should mention for it to be answerable, each once."""
    found = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        parts = runs(sentence)
        latin = english.names(" ".join(run for analyser, run in parts if analyser is english))
        if len(parts) > 1:  # a figure inside another script ("第26回") is a pinned number, not a name
            latin = [name for name in latin if not name.isdigit()]
        found += latin
        found += [name for analyser in _OTHERS for name in analyser.names(sentence)]
    return list(dict.fromkeys(found))


def script_language(word: str) -> str:
    """The language whose analyser reads word's script: "ja" for インド, "en" for India."""
    return runs(word)[0][0].LANGUAGE if word else DEFAULT.LANGUAGE


def pinned_numbers(text: str) -> list[str]:
    """The numbers a question pins, in figures where the language writes them otherwise ("第五回": "5")."""
    found = [match.group().lower().replace(",", "") for match in english.PINNED_NUMBER.finditer(text)]
    found += [japanese.figure(match.group()) for match in japanese.PINNED_NUMBER.finditer(text)]
    return list(dict.fromkeys(found))


def without_numbers(text: str) -> str:
    """text with the numbers it pins taken out: a follow-up's own number replaces its context's."""
    for analyser in ANALYSERS:
        text = analyser.PINNED_NUMBER.sub(" ", text)
    return " ".join(text.split())


def _any(name: str, text: str) -> bool:
    return any(getattr(analyser, name).search(text) for analyser in ANALYSERS)


def asks_when(question: str) -> bool:
    """Does the question ask for a date ("When ...", "いつ")?"""
    return _any("ASKS_WHEN", question)


def asks_money(question: str) -> bool:
    """Does the question ask for an amount of money ("how much funding", "いくら")?"""
    return _any("ASKS_MONEY", question)


def states_money(text: str) -> bool:
    """Does text state an amount of money (a currency, millions and billions)?"""
    return _any("MONEY", text)


def has_question_word(question: str) -> bool:
    return _any("QUESTION_WORD", question)


def leans_back(question: str) -> bool:
    """Does the question open as a continuation ("And ...", "では") or refer back with a pronoun ("it", "それ")?"""
    return _any("CONTINUATION", question) or _any("PRONOUN", question)


def quoted_as_written(asked: str, languages: list[str]) -> str:
    """The note, in the language asked, that passages in these other languages are quoted as written."""
    served = {analyser.LANGUAGE: analyser for analyser in ANALYSERS}
    note = served.get(asked, DEFAULT)
    names = [served[language].NAME.get(note.LANGUAGE, language) if language in served else language
             for language in languages]
    return note.QUOTED_AS_WRITTEN.format(languages=note.JOIN.join(names))


def detect(text: str) -> str:
    """The language text is written in, as an ISO 639-1 code, one of LANGUAGES ("en", "ja").

    lingua (statistical, made for short text) decides among the languages served, not all it knows: each
    language's model costs its loading time (1.4 s for seven European and Asian ones, measured, against
    10 ms for two), and a question in another language has no analyser to go to. A tenth of its letters in
    kana make a text Japanese whatever else it holds (lingua reads "MIRAI-HARMONYを率いるのは誰？" as English;
    an English passage naming the デジタル庁 stays English); where lingua cannot tell, kanji make it "ja",
    anything else "en".
    """
    if not _SCRIPTS.search(text):  # the languages served are told apart by script (runs()): lingua says the same
        return DEFAULT.LANGUAGE
    letters = sum(map(str.isalpha, text))
    if len(KANA.findall(text)) >= KANA_SHARE * letters > 0:  # lingua reads "MIRAI-HARMONYを率いるのは誰？" as English
        return japanese.LANGUAGE
    found = _detector().detect_language_of(text)
    if found is not None:
        return found.iso_code_639_1.name.lower()
    return japanese.LANGUAGE if japanese.SCRIPT.search(text) else english.LANGUAGE


@functools.cache
def _detector():
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    served = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*served).build()


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span text[start:end] without the whitespace at its ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
