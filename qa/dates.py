"""Read the dates written in text, English and Japanese: the day a dateline names, whether a text mentions a
date, whether a question asks when."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# --- English -----------------------------------------------------------------------------------------------------
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
         r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?")  # an English month's name, as people write it
FULL_DATE = re.compile(  # English: 23 January 2019, 15 October, 2025, May 1, 2024, 1st May 2024, 2024-05-01
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH},?\s+\d{{4}}|{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
ENGLISH_MONTH = re.compile(rf"\b{MONTH}\s+\d{{4}}\b", re.IGNORECASE)  # May 2024: a month without its day

# --- Japanese ----------------------------------------------------------------------------------------------------
KANJI_DIGITS = "〇一二三四五六七八九"
NUMBER = rf"(?:[0-9]{{1,2}}|[{KANJI_DIGITS}十]{{1,3}})"  # 5, 15, 五, 十五, 三十一: a month, a day or an era's year
ERAS = {  # each era's first and last day; its first year is 元年 ("the first year"), whatever month it began in
    "令和": (dt.date(2019, 5, 1), dt.date.max),
    "平成": (dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    "昭和": (dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
}
ASIDE = r"(?:\s*\([^()\n]{1,12}\))?"  # 令和6(2024)年, 2024年(令和6年): the other calendar's year, in brackets
JAPANESE_DATE = re.compile(  # 2025年5月15日, 令和6年5月1日, 令和元年5月1日, 令和六年五月一日; 2025年5月 is a month
    rf"(?:(?P<era>{'|'.join(ERAS)})\s*(?P<era_year>元|{NUMBER})"
    rf"|(?<![0-9{KANJI_DIGITS}十])(?P<year>[0-9]{{4}}|[{KANJI_DIGITS}]{{4}})){ASIDE}\s*年{ASIDE}"
    rf"\s*(?P<month>{NUMBER})\s*月(?:\s*(?P<day>{NUMBER})\s*日|(?!\s*[0-9]))"
)
# Either language: 2025/5/15, 2025.5.15, 2024-5-1, one separator throughout; not part of a longer run of numbers
NUMERIC_DATE = re.compile(
    r"(?<![0-9])(?<![0-9][-/.])(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    r"(?![0-9])(?!(?P=sep)[0-9])"
)

# "Does this text mention a date?", searched in text as written (not normalised), so full-width digits are spelled
# out. The English forms are those qa.retrieve has used. (Whether a question asks when: each analyser's ASKS_WHEN.)
MENTIONS_DATE = re.compile(
    rf"\b(?:1[89]|20)\d\d\b|\b{MONTH}\s+\d|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}"
    r"|\btoday\b"  # "today", in a dated press release, is its date
    rf"|[0-9０-９{KANJI_DIGITS}十元]\s*年(?!間)"  # 2025年, 令和6年, 元年; not 3年間, "for three years"
    rf"|[0-9０-９{KANJI_DIGITS}十]\s*月(?!間)"  # 5月, 五月; not 3か月 or 3月間
    rf"|{'|'.join(ERAS)}|本日"  # 本日 ("today") as in English
    r"|[0-9０-９]{4}\s*[-/.／．][0-9０-９]{1,2}",  # 2025/5/15
    re.IGNORECASE,
)



@dataclass(frozen=True)
class Mention:
    """A date written in text: the day it names, and where it is written."""

    iso: str  # "2024-05-01"; "2024-05" for a month written without its day (find_dates(months=True))
    start: int  # offsets in the text as given
    end: int


def find_date(text: str) -> str:
    """The first real day text writes, in English or Japanese, as YYYY-MM-DD; "" when it writes none.

    Args:
        text: any text; full-width digits and the like are read as their plain forms (NFKC).

    Returns:
        "2024-05-01" for "令和6年5月1日", "2024年5月1日", "2024/5/1", "1 May 2024" or "May 1, 2024"; "" for text
        without a full date (a month and day without the year, such as 5月1日, is not one: the year is not guessed).
    """
    found = find_dates(text)
    return found[0].iso if found else ""


def find_month(text: str) -> str:
    """The month of the first date text writes, with or without its day, as YYYY-MM ("2025年5月" -> "2025-05");
    "" when it writes none."""
    found = find_dates(text, months=True)
    return found[0].iso[:7] if found else ""


def find_dates(text: str, *, months: bool = False) -> list[Mention]:
    """Every real date text writes, in order. A date no calendar has (2月30日, 平成32年, which never came: the era
    ended in its 31st year) is passed over.

    Args:
        text: any text.
        months: also give the months written without a day ("2025年5月", "May 2025") as YYYY-MM.
    """
    normalised, origin = _normalise(text)
    mentions = sorted(_read_all(normalised, months), key=lambda m: (m.start, -m.end))
    found, end = [], 0
    for mention in mentions:
        if mention.start < end:  # inside a longer one: "May 2024" in "1 May 2024", "2024-05-01" read twice
            continue
        end = mention.end
        if mention.iso:  # an impossible date still takes its place, so no part of it is read as another
            found.append(Mention(mention.iso, origin[mention.start], origin[mention.end - 1] + 1))
    return found


def _normalise(text: str) -> tuple[str, list[int]]:
    """text in NFKC (２０２５ -> 2025, ／ -> /, ㋿ -> 令和, ſ -> s), and where each of its characters came from.
    Character by character, so that offsets map back; a date's characters do not combine with their neighbours."""
    if text.isascii():
        return text, list(range(len(text)))
    parts = [unicodedata.normalize("NFKC", ch) for ch in text]
    return "".join(parts), [i for i, part in enumerate(parts) for _ in part]


def _read_all(text: str, months: bool) -> Iterator[Mention]:
    for found in FULL_DATE.finditer(text):
        yield Mention(_english_day(found.group()), found.start(), found.end())
    if months:
        for found in ENGLISH_MONTH.finditer(text):
            yield Mention(_english_month(found.group()), found.start(), found.end())
    for found in JAPANESE_DATE.finditer(text):
        if found["day"] is not None or months:
            yield Mention(_japanese_day(found), found.start(), found.end())
    for found in NUMERIC_DATE.finditer(text):
        yield Mention(_iso(int(found["year"]), int(found["month"]), int(found["day"])), found.start(), found.end())


def _english_day(date: str) -> str:
    """"23 January 2019", "May 1, 2024", "1st May 2024" or "2019-01-23" as 2019-01-23; "" for no real day."""
    # casefold, not lower: FULL_DATE ignores case as Unicode does, so "ſep" (a long s) is a "sep" it matched
    words = re.findall(r"\d+|[^\W\d]+", date.casefold())
    if all(word.isdigit() for word in words):
        year, month, day = (int(word) for word in words)
    else:
        day, year = (int(word) for word in words if word.isdigit())
        month = _month_number(words)
    return _iso(year, month, day)


def _english_month(date: str) -> str:
    words = re.findall(r"\d+|[^\W\d]+", date.casefold())
    return _iso(int(words[-1]), _month_number(words), 1)[:7]


def _month_number(words: list[str]) -> int:
    return next((MONTHS.index(word[:3]) + 1 for word in words if word[:3] in MONTHS), 0)


def _japanese_day(found: re.Match[str]) -> str:
    """The date a JAPANESE_DATE match names, as YYYY-MM-DD (YYYY-MM without a day); "" if no calendar has it."""
    month, day = _number(found["month"]), _number(found["day"] or "1")
    if found["era"] is None:
        year = _number(found["year"])
        return _iso(year, month, day)[: 10 if found["day"] else 7]
    first, last = ERAS[found["era"]]
    year = first.year + _number(found["era_year"]) - 1
    iso = _iso(year, month, day)
    if found["day"]:
        return iso if iso and first.isoformat() <= iso <= last.isoformat() else ""
    # a month of the era: 令和元年5月 is one, 令和元年4月 (still 平成) is not
    return iso[:7] if iso and first.isoformat()[:7] <= iso[:7] <= last.isoformat()[:7] else ""


def _number(written: str) -> int:
    """5, 15, 2025, 元 (1), 五 (5), 十五 (15), 三十一 (31), 二〇二五 (2025) as a number; 0 when it is none."""
    if written.isdigit():
        return int(written)
    if written == "元":
        return 1
    tens, ten, ones = written.partition("十")
    if not ten:  # digit by digit, as years are written: 二〇二五
        return int("".join(str(KANJI_DIGITS.index(ch)) for ch in written)) if written else 0
    if len(tens) > 1 or len(ones) > 1 or "十" in ones or tens == "〇" or ones == "〇":
        return 0
    return (KANJI_DIGITS.index(tens) if tens else 1) * 10 + (KANJI_DIGITS.index(ones) if ones else 0)


def _iso(year: int, month: int, day: int) -> str:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:  # 31 February, 2月30日, month 0
        return ""
