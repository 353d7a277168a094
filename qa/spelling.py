"""Correct the typos of a question against the words of the corpus, as search engines do ("Showing results for").

A word is taken for a typo only when the corpus does not hold it and it is not an English word either
(symspellpy's frequency list of 82,765 words): "semicondutor" is corrected to "semiconductor", while
"tall" in "How tall is Mount Everest?" is left alone, however close it comes to "talk". The correction is
the corpus word fewest edits away (rapidfuzz, optimal string alignment: a swap of two letters is one
edit), the most frequent of equals. rapidfuzz scans the vocabulary for each unknown word instead of
building SymSpell's table of deletions first: 25 ms a word at 100,000 distinct words, against 16 s and
370 MB to build the table there (python -m bench.spelling), and nothing to build for any corpus. A
capitalised word inside a sentence may be a name, and is corrected by one edit at most ("Sumit",
"Transfomation", "Harmoney"), or by two only to a word the corpus writes as a name ("Virkunnen"): a name
no document mentions is seldom one edit from a word they hold, and stays to be refused as such
(answer.unknown_names).
"""

from __future__ import annotations

import re
from collections import Counter

from qa.text import split_sentences
from qa.text.english import known_words as english_words

LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w])|(?<=-)[A-Za-z]+(?![\w])")  # "co-chaired": "co", "chaired"
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away to guess from
LONG_WORD = 7  # from this length on, two edits are allowed; below it, one
NAME_SHARE = 0.5  # a corpus word written capitalised at least this often is a name


class Speller:
    """The words of one corpus, with how often each is written and how often capitalised, ready to correct."""

    def __init__(self, texts: list[str]):
        words = [word for text in texts for word in LATIN_WORD.findall(text)]
        self.counts = Counter(word.lower() for word in words)
        capitalised = Counter(word.lower() for word in words if word[0].isupper())
        self.names = {word for word, count in self.counts.items() if capitalised[word] >= NAME_SHARE * count}
        self.words = list(self.counts)

    def correct(self, question: str) -> str:
        """question with each word that looks like a typo replaced by the nearest corpus word, in the
        typed word's case; the question itself when nothing needs correcting."""
        pieces, last, names_at = [], 0, None
        for match in LATIN_WORD.finditer(question):
            word = match.group()
            if not self._unknown(word):
                continue
            if names_at is None:  # read only once a word needs it: most questions have no unknown word
                names_at = _inside_sentences(question)
            fixed = self._nearest(word, is_name=word[0].isupper() and match.start() in names_at)
            if fixed:
                pieces += [question[last : match.start()], _same_case(fixed, word)]
                last = match.end()
        return "".join(pieces) + question[last:] if pieces else question

    def _unknown(self, word: str) -> bool:
        """Might word be a typo: long enough to guess from, and neither a corpus word nor an English one?"""
        lower = word.lower()
        return len(lower) >= MIN_LENGTH and lower not in self.counts and lower not in english_words()

    def _nearest(self, word: str, *, is_name: bool) -> str:
        """The corpus word to read an unknown word as, or "" to keep it."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        lower = word.lower()
        distance = 2 if len(lower) >= LONG_WORD else 1
        near = [(edits, term) for term, edits, _ in process.extract(lower, self.words, scorer=OSA.distance,
                                                                      score_cutoff=distance, limit=None)
                if not is_name or edits == 1 or term in self.names]
        # the fewest edits; of equals, the typed first letter (typos seldom hit it: "chared" is "chaired", not
        # "shared"), then the commonest word
        near.sort(key=lambda found: (found[0], found[1][0] != lower[0], -self.counts[found[1]]))
        return near[0][1] if near else ""


def _inside_sentences(question: str) -> set[int]:
    """The offsets of the words that do not open a sentence: a capital there marks a name."""
    openers = set()
    for start, end in split_sentences(question):
        first = LATIN_WORD.search(question, start, end)
        if first:
            openers.add(first.start())
    return {match.start() for match in LATIN_WORD.finditer(question)} - openers


def _same_case(word: str, typed: str) -> str:
    """word written as typed was: "SEMICONDUCTOR", "Semiconductor" or "semiconductor"."""
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    return word.capitalize() if typed[0].isupper() else word


_SPELLERS: dict[str, Speller] = {}  # by index generation folder: a rebuilt index gets a speller of its own


def correct(question: str, index) -> str:
    """question with its typos corrected against the words of index's documents (Speller.correct)."""
    key = str(index.path)
    if key not in _SPELLERS:
        texts = [chunk.text for chunk in index.chunks] + [document.title for document in index.documents.values()]
        _SPELLERS.clear()  # one index at a time is the common case; an older generation's words are not kept
        _SPELLERS[key] = Speller(texts)
    return _SPELLERS[key].correct(question)
