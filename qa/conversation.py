"""Read a chat message as the conversation means it: small talk, or a question that leans on the ones before.

People chat in follow-ups: after "Who co-chaired the third Digital Partnership Council?" they ask "And the
second one?" or "Where did it take place?". Such a question is searched together with the one it follows
(retrieve.search's context: its terms, vector and keyword scores are carried over), while a question that
stands on its own is searched as it is, so a change of topic is never dragged back. Greetings, thanks and
requests for help get a reply saying what the assistant covers instead of "Nothing in the documents".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa import spelling, text
from qa.index import Index

# A question leans on the one before when it opens as a continuation or refers back with a pronoun (text.leans_back)
# or is too short to say what it is about ("Semiconductors?").
MAX_LEANING_TERMS = 3  # a continuation or pronoun with more terms of its own than this is a whole question
CARRIED_QUESTIONS = 3  # a follow-up is read with at most the last standalone question and the follow-ups after it

SMALL_TALK = {
    "greeting": r"hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|yo|"
                r"こんにちは|こんばんは|おはよう(?:ございます)?|はじめまして",
    "thanks": r"(?:(?:many|big) )?thanks?(?: you)?(?: (?:so|very) much| a lot)?|thx|ty|cheers|much appreciated|"
              r"(?:great|perfect|nice|ok|okay|cool)(?:,? thanks?(?: you)?)?|that helps|that'?s helpful|"
              r"ありがとう(?:ございます|ございました)?|どうも",
    "help": r"help|help me|\?+|what can you do|what do you do|who are you|what are you|what is this|"
            r"how does (?:this|it) work|how do i use (?:this|it|you)|what can i ask(?: you)?|what do you know|"
            r"ヘルプ|使い方|何ができますか",
    "goodbye": r"bye|goodbye|bye bye|see you|see ya|さようなら|またね",
}
SMALL_TALK_PATTERNS = {kind: re.compile(rf"(?:{words})(?: (?:there|again|all|bot|assistant|everyone))?",
                                        re.IGNORECASE) for kind, words in SMALL_TALK.items()}
_PHRASE = "|".join(f"(?:{pattern.pattern})" for pattern in SMALL_TALK_PATTERNS.values())
SMALL_TALK_MESSAGE = re.compile(rf"(?:{_PHRASE})(?: (?:{_PHRASE}))*", re.IGNORECASE)  # phrases in a row, only
SMALL_TALK_IN = {kind: re.compile(rf"(?<!\w)(?:{pattern.pattern})(?!\w)", re.IGNORECASE)
                 for kind, pattern in SMALL_TALK_PATTERNS.items()}  # each kind as whole words inside a message
SMALL_TALK_ORDER = ("help", "thanks", "goodbye", "greeting")  # "hi, what can you do?" asks for help
# The words of small talk, to read "helo", "thnaks" and "what cna you do" as they were meant
SMALL_TALK_WORDS = sorted({word for words in SMALL_TALK.values() for word in re.findall(r"[a-z]{3,}", words)})
EXAMPLES = (
    "Who co-chaired the third Digital Partnership Council?",
    "Who leads the 6G MIRAI-HARMONY project?",
    "What was agreed on submarine cables?",
)


@dataclass(frozen=True)
class Reading:
    """How a message is understood: what to search, and what it was read together with."""

    question: str  # the message, to be searched (typos corrected, if any)
    context: str = ""  # the earlier question(s) it leans on, searched with it
    follows: str = ""  # the earlier question shown as "Following on from: ..."
    corrected: str = ""  # question, when its typos were corrected: shown as "Showing results for: ..."


def small_talk(message: str) -> str:
    """The kind of small talk message is ("greeting", "thanks", "help", "goodbye"), or "" for a question.

    A message is small talk when it is made of small-talk phrases only ("Thanks, that helps!", "hi, what can you
    do?"), its words read with one typo allowed ("helo", "thnaks"); the help it asks for counts first.
    """
    text = " ".join(re.sub(r"[^\w'?]+", " ", message.casefold()).split()).strip()
    text = re.sub(r"(?<=\w)\s*\?+$", "", text)  # "what can you do?" as "what can you do"; a lone "?" stays
    if len(text) > 60:
        return ""
    text = " ".join(_small_talk_word(word) for word in text.split())
    if not SMALL_TALK_MESSAGE.fullmatch(text):
        return ""
    kinds = {kind for kind, pattern in SMALL_TALK_IN.items() if pattern.search(text)}
    return next(kind for kind in SMALL_TALK_ORDER if kind in kinds)


def _small_talk_word(word: str) -> str:
    """word, or the small-talk word one edit from it ("helo": "hello", "cna": "can")."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    if len(word) < 3 or word in SMALL_TALK_WORDS or not word.isascii():
        return word
    found = process.extractOne(word, SMALL_TALK_WORDS, scorer=OSA.distance, score_cutoff=1)
    return found[0] if found else word


def small_talk_reply(kind: str, index: Index) -> str:
    """A short, friendly reply to small talk that says what the assistant covers, with example questions."""
    if kind == "thanks":
        return "You're welcome! Ask another question whenever you like."
    if kind == "goodbye":
        return "Goodbye! Come back with more questions about the EU–Japan Digital Partnership."
    opening = "Hello! " if kind == "greeting" else ""
    dates = sorted(d.date for d in index.documents.values() if d.date)
    dated = f" dated {dates[0]} to {dates[-1]}" if len(dates) > 1 else ""
    examples = "\n".join(f"• {example}" for example in EXAMPLES)
    return (f"{opening}I answer questions about the EU–Japan Digital Partnership from {len(index.documents)} "
            f"documents{dated}, quoting the passages that answer, each with its source. You can ask follow-up "
            f"questions, and narrow them to dates or publishers. For example:\n{examples}")


def understand(question: str, history: Sequence[str], index: Index) -> Reading:
    """question as it will be searched: its typos corrected (qa.spelling), read with the earlier questions it
    leans on (read), theirs corrected too, less their numbers when question pins one of its own."""
    reading = read(question, history)
    fixed = spelling.correct(question, index)
    context = spelling.correct(reading.context, index) if reading.context else ""
    if text.pinned_numbers(question):  # a number of its own replaces theirs: "And the second one?" after "the third"
        context = text.without_numbers(context)
    return Reading(fixed, context, reading.follows, corrected=fixed if fixed != question else "")


def read(question: str, history: Sequence[str] = ()) -> Reading:
    """question as the conversation means it: alone, or together with the earlier question(s) it leans on.

    history: the conversation's earlier questions, oldest first. Small talk in it is passed over ("thanks").
    """
    earlier = [q for q in history if isinstance(q, str) and q.strip() and not small_talk(q)]
    if not earlier or stands_alone(question):
        return Reading(question)
    anchor = len(earlier) - 1  # the last earlier question that stands alone: the topic the follow-ups are about
    while anchor > 0 and not stands_alone(earlier[anchor]) and len(earlier) - anchor < CARRIED_QUESTIONS:
        anchor -= 1
    return Reading(question, context=" ".join(earlier[anchor:]), follows=earlier[anchor])


def stands_alone(question: str) -> bool:
    """Does question say on its own what it is about? Not when it opens as a continuation or refers back with a
    pronoun and has few terms of its own, nor when it has at most one term ("And the second?", "Semiconductors?")."""
    terms = len(text.terms(question))
    if terms <= 1:
        return False
    leans = text.leans_back(question)
    return not leans or terms > MAX_LEANING_TERMS
