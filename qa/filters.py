"""Which documents a question's passages may come from: dates, publishers, documents."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from qa.documents import Document
from qa.errors import BadFilter

DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)  # YYYY, YYYY-MM or YYYY-MM-DD, in 0-9
DATE_FORMS = "a year (2025), a month (2025-05) or a day (2025-05-12)"
# A question asking for a date ("When ...", "Since when ...", "On what date ...") and a date in a text


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
