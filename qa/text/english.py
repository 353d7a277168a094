"""English: sentence ends, keyword terms (NLTK's stop words, Snowball stems), names, number words, and the
English cues of questions (asking when, asking for money, following on from the one before)."""

from __future__ import annotations

import functools
import re
from importlib import resources

LANGUAGE = "en"
STOPWORDS = "en_plus"  # NLTK's English list: unlike bm25s's default ("en") it drops who/which/how/when
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]*[A-Z0-9])")
INITIAL = re.compile(r"[a-z]")  # a word of one letter before a full stop: "J. Smith"
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st no nos vs etc e.g i.e u.s u.k inc ltd co jr sr gen gov sen rep art fig vol "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx dept est min max".split()
)
WORD = re.compile(r"\w+")
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's words (scikit-learn's CountVectorizer pattern)
CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
SUFFIX = {1: "st", 2: "nd", 3: "rd"}  # of an ordinal in figures; "th" for the others
# figures(): each number word with its figure after it, written in one pass (whole words never overlap, and what one
# puts in, "third 3rd", holds no other)
FIGURE_OF = {**{cardinal: f"{cardinal} {n}" for n, cardinal in enumerate(CARDINALS, start=1)},
             **{ordinal: f"{ordinal} {n}{SUFFIX.get(n, 'th')}" for n, ordinal in enumerate(ORDINALS, start=1)}}
NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(FIGURE_OF)})\b")
THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}\b)")
# The numbers a question pins: figures (2026, 1,000, 2.5, 28th) and ordinals from "second" on ("first" also means
# "earliest": "where did he first propose it")
PINNED_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?!\w)"
                           rf"|\b(?:{'|'.join(ORDINALS[1:])})\b", re.IGNORECASE)
QUESTION_WORD = re.compile(r"\b(?:who|whom|whose|what|when|where|which|why|how)\b", re.IGNORECASE)
# A question asking for a date ("When ...", "Since when ...", "On what date ...")
ASKS_WHEN = re.compile(r"^\W*(?:(?:and|since|until|by|about)\s+)*when\b|\b(?:what|which) (?:date|day|month|year)\b",
                       re.IGNORECASE)
ASKS_MONEY = re.compile(
    r"\bhow much (?:money|funding|funds|financing|investment|capital)\b|\b(?:what|which) (?:amount|budget|sum)\b"
    r"|\bhow much\b.*\b(?:invest|spen[dt]|pa(?:y|id)|costs?\b|commit|fund|allocat|contribut|lend|lent|loan)",
    re.IGNORECASE)
MONEY = re.compile(r"[€$¥£]|\b(?:yen|euros?|eur|usd|jpy|dollars?|pounds?|million|billion|trillion)\b",
                   re.IGNORECASE)
# A question leans on the one before when it opens as a continuation ("And ...", "What about ...") or refers back
# with a pronoun ("its budget", "Where will it take place?")
CONTINUATION = re.compile(r"^\W*(?:and|also|but|or|so|then|what about|how about|what of|same for|as for)\b",
                          re.IGNORECASE)
PRONOUN = re.compile(r"\b(?:it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|these|those|"
                     r"the same|that one|the other)\b", re.IGNORECASE)
NAME = {"en": "English", "ja": "英語"}  # this language's name, in each language served
# The note on sources in other languages than an English question's: {languages} joined with " and "
QUOTED_AS_WRITTEN = "Some sources are in {languages}; they are quoted as written, not translated."
JOIN = " and "
DEMONYM_ENDINGS = ("ian", "ean", "ese", "an", "ish", "i")  # Canadian, Korean, Japanese, European, Iraqi


def words(text: str, *, stem: bool = True, stopwords: str = STOPWORDS) -> list[str]:
    """The keyword terms of text: lower-cased words of two or more characters, stop words removed, stemmed.

    Exactly what bm25s.tokenize(text, stopwords=..., stemmer=...) returns (tests/test_text.py checks), without
    its set-up for a list of texts (progress bars, a set of the stop words per text): 0.3 ms a question, 40
    times the work itself.
    """
    dropped = _stopwords(stopwords)
    found = [word for word in TOKEN.findall(text.lower()) if word not in dropped]
    return _stemmer().stemWords(found) if stem else found


@functools.cache
def _stopwords(name: str) -> frozenset[str]:
    from bm25s.tokenization import _infer_stopwords

    return frozenset(_infer_stopwords(name))


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def sentence_ends(line: str) -> list[int]:
    """Where sentences may end in a line: after . ! or ? (and closing quotes) before a capital or a figure,
    except after an abbreviation or an initial ("Mr. Kono", "U.S. policy", "J. Smith")."""
    ends = []
    for end_match in SENTENCE_END.finditer(line):
        end = start = end_match.end()
        while start and not line[start - 1].isspace():  # back to the start of the word the sentence ends on
            start -= 1
        token = line[start:end].rstrip(".!?\"'”’)]").lower()
        if token not in ABBREVIATIONS and not INITIAL.fullmatch(token):
            ends.append(end)
    return ends


def names(sentence: str) -> list[str]:
    """The names and numbers of a sentence: words with a figure, and capitalised words after the first.

    A title ("Ms") is no name; in a sentence written in title case or capitals (most words after the first
    capitalised) the capitals say nothing, and only numbers count. "What about India?" is not in title case:
    only one of its two later words is.
    """
    found = WORD.findall(sentence)
    title_case = sum(word[0].isupper() for word in found[1:]) > len(found[1:]) / 2  # the first is always
    return [word for position, word in enumerate(found) if any(ch.isdigit() for ch in word)
            or (position and not title_case and word[0].isupper() and len(word) > 1
                and word.lower() not in ABBREVIATIONS)]


def spellings(word: str) -> list[str]:
    """word, and for a number up to twelve its word too: "3rd", "third"; "5", "five"."""
    number = re.fullmatch(r"(\d+)(st|nd|rd|th)?", word.lower())
    if not number or not 1 <= int(number[1]) <= len(CARDINALS):
        return [word]
    return [word, (ORDINALS if number[2] else CARDINALS)[int(number[1]) - 1]]


def places(word: str) -> list[str]:
    """The places a word for a people may name: the word less its ending, alone and with an "a"
    ("Canadian": "Canad", "Canada"; "European": "Europe", "Europea"). None for a word without such an
    ending, or with fewer than four letters before it."""
    stems = [word[: -len(ending)] for ending in DEMONYM_ENDINGS
             if word.lower().endswith(ending) and len(word) - len(ending) >= 4]
    return [form for stem in stems for form in (stem, stem + "a")]


def spelled_out(acronym: str) -> re.Pattern | None:
    """A pattern for the words an acronym may stand for ("GDP": "gross domestic product", "EPA": "Economic
    Partnership Agreement", small words such as "of" allowed between); None for a word that is no acronym."""
    if not (acronym.isalpha() and acronym.isupper() and 2 <= len(acronym) <= 6):
        return None
    small = r"(?:of|and|for|the|with|on|in|to|a|an)\b"
    return re.compile(r"\b" + rf"\W+(?:{small}\W+)?".join(rf"(?!{small}){letter}\w+" for letter in acronym),
                      re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 12)
def figures(text: str) -> str:
    """text in lower case with thousands separators dropped and number words up to twelve as figures too. Cached:
    answer.unheld_numbers asks it of the same passages question after question."""
    text = THOUSANDS_SEPARATOR.sub("", text.lower())
    return NUMBER_WORD.sub(lambda word: FIGURE_OF[word.group()], text)


def figure_pattern(number: str) -> str:
    """A pattern for number (lower case) in text as figures() writes it: "fifth" as 5th, "2" not in "2.5"."""
    if number in ORDINALS:
        n = ORDINALS.index(number) + 1
        number = f"{n}{suffix(n)}"
    return rf"(?<![\d.])(?<!\d\.){re.escape(number)}(?!\d|[.,]\d)"


def suffix(n: int) -> str:
    return SUFFIX.get(n % 10, "th") if n % 100 not in (11, 12, 13) else "th"


def ordinal(n: int) -> str:
    """n as an English ordinal: "second" up to "twelfth", then "13th", "21st"."""
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else f"{n}{suffix(n)}"


@functools.cache
def known_words() -> frozenset[str]:
    """The 82,765 English words of symspellpy's frequency dictionary, lower-cased: real words, not typos."""
    listing = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt")
    return frozenset(line.split(" ", 1)[0] for line in listing.read_text(encoding="utf-8").splitlines() if line)
