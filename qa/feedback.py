"""Keep the thumbs up and down people give to sources, and turn them into regression questions for `qa eval`.

The file is JSONL, one rating a line, only ever appended to: the web chat's threads (and other processes)
may record at the same time, so each rating is one write of one whole line, under an flock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from qa.retrieve import Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feedback:
    """One thumbs up or down on one source passage of one answer."""

    question: str
    helpful: bool
    doc_id: str
    title: str
    start: int  # character offsets of the passage in its document
    end: int
    quote: str  # the highlighted sentence(s) that answered
    text: str  # the whole passage
    time: str  # when, ISO-8601 UTC


def record(path: Path, question: str, passage: Passage, helpful: bool) -> Feedback:
    """Append one rating of passage, shown for question, to the file at path (created with its folder if needed).

    Args:
        path: the feedback file, e.g. config.feedback_path().
        question: the question as it was answered.
        passage: the source that was rated.
        helpful: True for thumbs up, False for thumbs down.

    Returns:
        The Feedback as written.
    """
    feedback = Feedback(
        question=question,
        helpful=helpful,
        doc_id=passage.doc_id,
        title=passage.title,
        start=passage.start,
        end=passage.end,
        quote=passage.quote,
        text=passage.text,
        time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    line = (json.dumps(asdict(feedback), ensure_ascii=False) + "\n").encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:  # every write goes to the end, whatever the position
        fcntl.flock(handle, fcntl.LOCK_EX)  # other threads and processes wait here: lines never interleave
        if handle.seek(0, os.SEEK_END) > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = b"\n" + line  # a writer killed mid-line left it unfinished: don't glue this rating onto it
        handle.write(line)
    # closing flushes the line, then releases the lock
    return feedback


def read(path: Path) -> list[Feedback]:
    """Every rating in the file at path, oldest first; none if it does not exist yet.

    A line that is not a rating (cut short, edited by hand) is skipped with a warning naming the file and line.
    """
    path = Path(path)
    if not path.exists():
        return []
    ratings = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            ratings.append(_parse(raw))
        except ValueError as error:
            log.warning("%s line %d is not a feedback record (%s); skipped", path, number, error)
    return ratings


def as_questions(feedback: list[Feedback]) -> list[dict]:
    """Regression questions for `qa eval` (the format of dev_qa.jsonl): one "fact" question per question
    with a helpful source, whose accepted answers are the quotes of all its helpful sources.

    Where the same source of the same question was rated more than once, the later rating wins.
    Unhelpful ratings become no question; how many there were is logged.
    """
    latest = {(f.question, f.doc_id, f.start, f.end): f for f in feedback}  # later ratings replace earlier ones
    helpful = [f for f in latest.values() if f.helpful]
    by_question: dict[str, list[Feedback]] = {}
    for f in helpful:
        by_question.setdefault(f.question, []).append(f)
    questions = [
        {
            "id": f"fb-{number}",
            "kind": "fact",
            "question": question,
            "answers": list(dict.fromkeys(f.quote.strip() or f.text for f in rated)),
            "doc": rated[0].doc_id,
        }
        for number, (question, rated) in enumerate(by_question.items(), start=1)
    ]
    log.info("feedback: %d helpful sources became %d questions; %d unhelpful sources are not scored",
             len(helpful), len(questions), len(latest) - len(helpful))
    return questions


def _parse(raw: bytes) -> Feedback:
    row = json.loads(raw.decode("utf-8"))  # UnicodeDecodeError and JSONDecodeError are ValueErrors
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    values = {}
    for field in fields(Feedback):
        kind = {"bool": bool, "int": int}.get(field.type, str)
        value = row.get(field.name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{field.name!r} should be {kind.__name__}, not {value!r}")
        values[field.name] = value
    return Feedback(**values)
