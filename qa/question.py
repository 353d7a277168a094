"""A question as it will be searched: checked, cleaned and cut to length."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.errors import BadQuestion

MAX_QUESTION_CHARS = 1000  # longer questions are cut, and the asker told (cut_notice)
WORD = re.compile(r"\w+")


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
    if not text.isprintable():  # the common case, printable throughout, needs no pass over each character
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())
