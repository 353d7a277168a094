"""Score the assistant and two common baselines on a question file, in the same run.

Question file: JSONL with kinds "fact" (answers: any string counts), "multi" (answers_all: one list
per fact, coverage@k is the share found) and "out_of_scope" (the assistant should abstain); or a
feedback file of thumbs up/down (qa.feedback), whose helpful sources become "fact" questions. A question
may carry "history", the conversation's earlier questions (oldest first), which this project reads it
with; the baselines, which keep no conversation, search the question alone.
A passage hits when it contains an accepted answer, compared lower-cased with whitespace folded.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from qa import config, feedback
from qa.answer import Answer, answer
from qa.documents import read_corpus
from qa.errors import NoHelpfulFeedback
from qa.build import flat_index, open_index
from qa.index import Index
from qa.vectors import Embedder

BASELINE_CHARS, BASELINE_OVERLAP = 1000, 200


@dataclass
class Outcome:
    """What one system did with one question."""

    question: dict
    texts: list[str]  # the passages it returned, best first
    answer_text: str | None  # None for systems that only rank passages
    abstained: bool
    seconds: float


@dataclass
class Result:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.question["kind"] == kind]


def run(questions_path: str | Path, *, k: int, corpus_dir: Path, index_dir: Path, baselines: bool = True) -> list[Result]:
    questions = load_questions(questions_path)
    embedder = config.embedder()
    index = open_index(corpus_dir, index_dir, embedder)
    systems: list[tuple[str, Callable[[dict], Outcome]]] = [
        ("this project", lambda q: ask(index, q["question"], k, history=q.get("history", ())))]
    if baselines:
        chunks = fixed_size_chunks(corpus_dir)
        systems += [
            ("BM25, 1000-char chunks", _bm25_baseline(chunks, k)),
            ("dense, 1000/200 chunks", _dense_baseline(chunks, embedder, k)),
        ]
    results = []
    for name, system in systems:
        system(questions[0])  # warm up: the first call pays for lazy loading
        result = Result(name)
        for question in questions:
            outcome = system(question)
            outcome.question = question
            result.outcomes.append(outcome)
        results.append(result)
    return results


def load_questions(path: str | Path) -> list[dict]:
    """The questions of a question file, or of a feedback file (qa.feedback: rows with "helpful"), converted.

    Raises:
        NoHelpfulFeedback: a feedback file in which no source was rated helpful.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")  # feedback.read() skips undecodable lines
    if any(_is_feedback(line) for line in text.split("\n")):  # not splitlines(): it also splits at U+2028
        return _feedback_questions(Path(path))
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row.get("kind") not in ("fact", "multi", "out_of_scope") or "question" not in row:
            raise ValueError(f"{path}: each line needs 'question' and a kind of fact, multi or out_of_scope: {row}")
    return rows


def contains(text: str, accepted: list[str]) -> bool:
    folded = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in folded for a in accepted)


def first_hit(outcome: Outcome) -> int | None:
    """1-based rank of the first passage containing an accepted answer."""
    for rank, text in enumerate(outcome.texts, start=1):
        if contains(text, outcome.question["answers"]):
            return rank
    return None


def metrics(result: Result, k: int = 5) -> dict[str, float | None]:
    facts, multis, off = result.of_kind("fact"), result.of_kind("multi"), result.of_kind("out_of_scope")
    ranks = [first_hit(o) for o in facts]
    coverage = [
        sum(any(contains(t, fact) for t in o.texts[:k]) for fact in o.question["answers_all"]) / len(o.question["answers_all"])
        for o in multis
    ]
    answered = [o for o in facts if o.answer_text is not None]
    lengths = [len(t) for o in result.outcomes for t in o.texts]
    return {
        "answer-hit@1": _mean([r is not None and r <= 1 for r in ranks]),
        "answer-hit@3": _mean([r is not None and r <= 3 for r in ranks]),
        "answer-hit@5": _mean([r is not None and r <= 5 for r in ranks]),
        "MRR": _mean([1 / r if r else 0.0 for r in ranks]),
        "coverage@5 (multi)": _mean(coverage),
        "abstains on out_of_scope": _mean([o.abstained for o in off]),
        "answers fact": _mean([not o.abstained for o in facts]),
        "short answer has answer": _mean([contains(o.answer_text or "", o.question["answers"]) for o in answered])
        if answered and answered[0].answer_text is not None
        else None,
        "median passage chars": statistics.median(lengths) if lengths else None,
        "median latency ms": statistics.median(o.seconds for o in result.outcomes) * 1000,
    }


def table(results: list[Result], *, markdown: bool = False) -> str:
    columns = [r.name for r in results]
    rows = [metrics(r) for r in results]
    names = list(rows[0])
    cells = [[_format(name, row[name]) for row in rows] for name in names]
    if markdown:
        lines = ["| metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(c) + " |" for name, c in zip(names, cells)]
        return "\n".join(lines)
    width = max(len(n) for n in names) + 2
    col = max(len(c) for c in columns) + 2
    lines = ["".ljust(width) + "".join(c.rjust(col) for c in columns)]
    lines += [name.ljust(width) + "".join(v.rjust(col) for v in c) for name, c in zip(names, cells)]
    return "\n".join(lines)


def by_language(result: Result) -> list[Result]:
    """result split by the language the questions are asked in ("language", English when not given)."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in result.outcomes:
        groups.setdefault(outcome.question.get("language", "en"), []).append(outcome)
    return [Result(f"{result.name}, {language}", outcomes) for language, outcomes in sorted(groups.items())]


def misses(result: Result) -> list[str]:
    """One line per question the system got wrong, for reading the failures."""
    lines = []
    for o in result.outcomes:
        q = o.question
        if q["kind"] == "fact" and (first_hit(o) or 99) > 1:
            lines.append(f"{q.get('id', '?')} hit at {first_hit(o) or '-'}: {q['question']}")
        elif q["kind"] == "fact" and o.abstained:
            lines.append(f"{q.get('id', '?')} abstained: {q['question']}")
        elif q["kind"] == "fact" and o.answer_text is not None and not contains(o.answer_text, q["answers"]):
            lines.append(f"{q.get('id', '?')} short answer misses: {q['question']}")
        elif q["kind"] == "out_of_scope" and not o.abstained:
            lines.append(f"{q.get('id', '?')} answered off-topic: {q['question']}")
        elif q["kind"] == "multi":
            found = [any(contains(t, fact) for t in o.texts[:5]) for fact in q["answers_all"]]
            if not all(found):
                lines.append(f"{q.get('id', '?')} covers {sum(found)}/{len(found)}: {q['question']}")
    return lines


def fixed_size_chunks(corpus_dir: Path, size: int = BASELINE_CHARS, overlap: int = BASELINE_OVERLAP) -> list[str]:
    """The usual recipe: windows of `size` characters, `overlap` shared, moved to the nearest space."""
    documents, _ = read_corpus(corpus_dir)
    chunks = []
    for document in documents:
        text, start = document.text, 0
        while start < len(text):
            end = min(len(text), start + size)
            if end < len(text) and (space := text.rfind(" ", start + size // 2, end)) > 0:
                end = space
            chunks.append(text[start:end].strip())
            if end == len(text):
                break
            start = max(start + 1, end - overlap)
            start = text.find(" ", start) + 1 or start
    return chunks


def ask(index: Index, question: str, k: int, *, history: Sequence[str] = ()) -> Outcome:
    """What this project did with question (asked after history, when there is one), timed."""
    started = time.perf_counter()
    result: Answer = answer(question, k, history=tuple(history), index=index)
    seconds = time.perf_counter() - started
    shown = result.passages or result.closest  # ranking quality is scored even where the answer abstains
    return Outcome({}, [p.text for p in shown], result.text, result.abstained, seconds)


def _bm25_baseline(chunks: list[str], k: int) -> Callable[[dict], Outcome]:
    import bm25s

    # the plain recipe: bm25s's defaults, English stop words, no stemming
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(chunks, stopwords="en", show_progress=False), show_progress=False)

    def search(question: dict) -> Outcome:  # the question alone: this baseline keeps no conversation
        started = time.perf_counter()
        words = bm25s.tokenize([question["question"]], stopwords="en", show_progress=False, return_ids=False)[0]
        scores = retriever.get_scores(words) if words else np.zeros(len(chunks))
        top = np.argsort(-scores)[:k]
        return Outcome({}, [chunks[i] for i in top], None, False, time.perf_counter() - started)

    return search


def _dense_baseline(chunks: list[str], embedder: Embedder, k: int) -> Callable[[dict], Outcome]:
    dense = flat_index(embedder.embed(chunks))

    def search(question: dict) -> Outcome:
        started = time.perf_counter()
        _, ids = dense.search(embedder.embed([question["question"]]), k)
        return Outcome({}, [chunks[i] for i in ids[0] if i >= 0], None, False, time.perf_counter() - started)

    return search


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


def _format(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if "chars" in name or "ms" in name:
        return f"{value:.0f}"
    return f"{value:.2f}"


def _is_feedback(line: str) -> bool:
    try:
        row = json.loads(line)
    except ValueError:
        return False
    return isinstance(row, dict) and "helpful" in row


def _feedback_questions(path: Path) -> list[dict]:
    ratings = feedback.read(path)
    questions = feedback.as_questions(ratings)
    if not questions:
        raise NoHelpfulFeedback(
            f"{path} has no source rated helpful yet ({len(ratings)} ratings read, each source's latest one a "
            "thumbs down), so there is no question to score. Give a thumbs up to the sources that answer "
            "their question in the web chat ('qa serve'), then run 'qa eval' on the file again.")
    return questions
