"""Does the assistant hold up when people chat: typos, lower case, follow-ups, changes of topic, small talk?

Builds an index of the bundled corpus/ in a temporary folder and asks it the sets of bench/chat/ (see its
README), and prints one table in which each figure stands beside the one it is compared with, measured in the
same run: the typo'd and lower-case development questions beside the clean ones, off-topic abstention with the
typo corrector beside without it, follow-ups and changes of topic read with their history beside asked alone;
then the small talk handled, the corrector's own latency, and every miss with its rank.

    python -m bench.chat [--dev ../shared/eval/dev_qa.jsonl] [--markdown]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from qa import config, evaluate, spelling
from qa.answer import Answer, NOTHING_FOUND, answer
from qa.config import REPOSITORY
from qa.errors import QAError
from qa.evaluate import Outcome, Result, contains, first_hit
from qa.build import build_index
from qa.index import Index

CHAT = Path(__file__).resolve().parent / "chat"
DEV = REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"


@dataclass(frozen=True)
class Sets:
    dev: list[dict]
    typos: list[dict]
    lowercase: list[dict]
    followups: list[dict]
    topic_changes: list[dict]
    small_talk: list[str]


@dataclass(frozen=True)
class Runs:
    """What the assistant did with each set, and how it did it."""

    clean: Result
    typos: Result
    lowercase: Result
    typos_off: Result  # the typo'd questions with the corrector turned off
    clean_off: Result  # the clean out_of_scope questions with the corrector turned off
    followups: Result
    followups_alone: Result  # without their history
    topic_changes: Result
    topic_changes_alone: Result
    small_talk: list[tuple[str, Answer | QAError]]
    first_correction_ms: float  # the first call builds the speller of the index's words
    correction_ms: list[float]  # the corrector alone, on each typo'd question


@dataclass(frozen=True)
class Row:
    measure: str
    reference: str  # what the figure stands beside, with its value: "clean 0.95"
    value: str
    target: str = ""


def load_sets(dev: Path = DEV, folder: Path = CHAT, limit: int | None = None) -> Sets:
    """The question sets; limit keeps the first few of each kind in each set (for a quick test)."""

    def questions(path: Path) -> list[dict]:
        rows = evaluate.load_questions(path)
        kinds = ("fact", "multi", "out_of_scope")
        return rows if limit is None else [q for kind in kinds for q in [r for r in rows if r["kind"] == kind][:limit]]

    lines = [line.strip() for line in (folder / "small_talk.txt").read_text(encoding="utf-8").splitlines()]
    return Sets(questions(dev), questions(folder / "typos.jsonl"), questions(folder / "lowercase.jsonl"),
                questions(folder / "followups.jsonl"), questions(folder / "topic_changes.jsonl"),
                [line for line in lines if line][:limit])


def ask_all(index: Index, *sets: list[dict], history: bool = True, k: int = 5) -> list[Result]:
    """What the assistant did with each question of each set, read after its "history" unless history is False.

    Sets of the same length are asked side by side (the first question of each, then the second, ...), so that
    whatever else loads the machine weighs on their latencies alike.
    """
    results = [Result("this project") for _ in sets]
    for questions in zip(*sets, strict=True):
        for result, question in zip(results, questions):
            earlier = question.get("history", ()) if history else ()
            outcome = evaluate.ask(index, question["question"], k, history=earlier)
            outcome.question = question
            result.outcomes.append(outcome)
    return results


@contextmanager
def without_corrector() -> Iterator[None]:
    """The library with its typo corrector turned off: qa.spelling.correct returns the question unchanged."""
    with mock.patch.object(spelling, "correct", lambda question, index: question):
        yield


def timed_ms(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def chat(index: Index, lines: list[str]) -> list[tuple[str, Answer | QAError]]:
    """The reply to each message, or the error it raised."""
    replies = []
    for line in lines:
        try:
            replies.append((line, answer(line, index=index)))
        except QAError as error:
            replies.append((line, error))
    return replies


def run(index: Index, sets: Sets) -> Runs:
    first = timed_ms(spelling.correct, sets.typos[0]["question"], index)  # before anything else calls it
    answer(sets.dev[0]["question"], index=index)  # warm up: the first call pays for lazy loading
    clean, typos, lowercase = ask_all(index, sets.dev, sets.typos, sets.lowercase)
    with without_corrector():
        typos_off, = ask_all(index, sets.typos)
        clean_off, = ask_all(index, [q for q in sets.dev if q["kind"] == "out_of_scope"])
    followups, followups_alone = (ask_all(index, sets.followups, history=h)[0] for h in (True, False))
    topic_changes, topic_changes_alone = (ask_all(index, sets.topic_changes, history=h)[0] for h in (True, False))
    return Runs(clean, typos, lowercase, typos_off, clean_off, followups, followups_alone, topic_changes,
                topic_changes_alone, chat(index, sets.small_talk), first,
                [timed_ms(spelling.correct, q["question"], index) for q in sets.typos])


def rows(runs: Runs) -> list[Row]:
    """The table: each figure beside the one it is compared with."""
    clean = evaluate.metrics(runs.clean)
    table = []
    for label, result in (("typo'd", runs.typos), ("lower-case", runs.lowercase),
                          ("typo'd, corrector off", runs.typos_off)):
        measured = evaluate.metrics(result)
        targets = {"answer-hit@5": "within 0.05 of clean", "answers fact": "≥ 0.95"} if label == "typo'd" else {}
        for metric in ("answer-hit@5", "answer-hit@1", "answers fact", "coverage@5 (multi)"):
            table.append(Row(f"{label} dev: {metric}", f"clean {_f(clean[metric])}", _f(measured[metric]),
                             targets.get(metric, "")))
    on = [o.abstained for r in (runs.clean, runs.typos) for o in r.of_kind("out_of_scope")]
    off = [o.abstained for r in (runs.clean_off, runs.typos_off) for o in r.of_kind("out_of_scope")]
    table.append(Row(f"off-topic abstention (dev + typo'd, {len(on)})", f"corrector off {_f(_mean(off))}",
                     _f(_mean(on)), "unchanged"))
    for label, read, alone, target in (("follow-ups", runs.followups, runs.followups_alone, "≥ 0.9"),
                                       ("topic changes", runs.topic_changes, runs.topic_changes_alone, "no loss")):
        for metric in ("answer-hit@3", "answer-hit@1"):
            table.append(Row(f"{label} ({len(read.outcomes)}): {metric} with history",
                             f"alone {_f(evaluate.metrics(alone)[metric])}", _f(evaluate.metrics(read)[metric]),
                             target if metric == "answer-hit@3" else ""))
    replies = [reply for _, reply in runs.small_talk]
    handled = [isinstance(reply, Answer) and reply.small_talk for reply in replies]
    refused = [not isinstance(reply, Answer) or reply.text == NOTHING_FOUND for reply in replies]
    table.append(Row(f"small talk ({len(replies)}): answered as small talk", "", _f(_mean(handled)), "1.00"))
    table.append(Row(f"small talk ({len(replies)}): refused", "", str(sum(refused)), "0"))
    table.append(Row("correction alone (typo'd dev): median / p95 ms", f"first call {runs.first_correction_ms:.0f}",
                     f"{_percentile(runs.correction_ms, 50):.1f} / {_percentile(runs.correction_ms, 95):.1f}"))
    table.append(Row("answer(): median ms, typo'd dev", f"clean {_median_ms(runs.clean)}", _median_ms(runs.typos)))
    return table


def failure(outcome: Outcome, k: int) -> str:
    """What went wrong with one question at k passages, "" when nothing did."""
    q = outcome.question
    if q["kind"] == "fact":
        rank = first_hit(outcome)
        if rank is None or rank > k:
            return f"rank {rank or '-'}" + (", abstained" if outcome.abstained else "")
        return "abstained" if outcome.abstained else ""
    if q["kind"] == "multi":
        found = sum(any(contains(t, fact) for t in outcome.texts[:k]) for fact in q["answers_all"])
        return f"covers {found}/{len(q['answers_all'])}" if found < len(q["answers_all"]) else ""
    return "" if outcome.abstained else "answered"


def misses(result: Result, k: int, beside: Result | None = None, beside_name: str = "") -> list[str]:
    """One line per question of result that failed at k, or that ranks its answer lower than in beside, with
    what the same question did there."""
    lines = []
    for n, outcome in enumerate(result.outcomes):
        other = beside.outcomes[n] if beside else None
        what = failure(outcome, k) or (_rank_drop(outcome, other) if other else "")
        if what:
            then = f" ({beside_name}: {failure(other, k) or _rank(other)})" if other else ""
            lines.append(f"{outcome.question['id']}: {what}{then} — {outcome.question['question']}")
    return lines


def _rank_drop(outcome: Outcome, beside: Outcome) -> str:
    """The rank of outcome's first hit ("rank 3") when it is below beside's, else ""."""
    if outcome.question["kind"] != "fact" or (first_hit(beside) or 99) >= (first_hit(outcome) or 99):
        return ""
    return _rank(outcome)


def _rank(outcome: Outcome) -> str:
    return f"rank {first_hit(outcome) or '-'}" if outcome.question["kind"] == "fact" else "ok"


def all_misses(runs: Runs) -> list[str]:
    lines = [f"clean: {line}" for line in misses(runs.clean, 5)]
    lines += [f"typo'd: {line}" for line in misses(runs.typos, 5, runs.clean, "clean")]
    lines += [f"lower-case: {line}" for line in misses(runs.lowercase, 5, runs.clean, "clean")]
    lines += [f"typo'd, corrector off: {line}" for line in misses(runs.typos_off, 5, runs.typos, "corrector on")]
    lines += [f"clean, corrector off: {line}" for line in misses(runs.clean_off, 5)]
    lines += [f"follow-up: {line}" for line in misses(runs.followups, 3, runs.followups_alone, "alone")]
    lines += [f"topic change: {line}" for line in misses(runs.topic_changes, 3, runs.topic_changes_alone, "alone")]
    for line, reply in runs.small_talk:
        if not isinstance(reply, Answer):
            lines.append(f"small talk: {line!r} raised {type(reply).__name__}: {reply}")
        elif not reply.small_talk:
            what = "refused" if reply.text == NOTHING_FOUND else "answered from the documents"
            lines.append(f"small talk: {line!r} {what}: {reply.text[:80]!r}")
    return lines


def table(rows: list[Row], *, markdown: bool = False) -> str:
    header = ("measure", "beside", "figure", "target")
    cells = [header] + [(r.measure, r.reference, r.value, r.target) for r in rows]
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
                         + ["| " + " | ".join(c) + " |" for c in cells[1:]])
    widths = [max(len(c[i]) for c in cells) + 2 for i in range(len(header))]
    return "\n".join("".join(c[i].ljust(widths[i]) for i in range(len(header))).rstrip() for c in cells)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(DEV), help="the development questions (JSONL)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for BENCHMARKS.md)")
    args = parser.parse_args(argv)
    sets = load_sets(Path(args.dev))
    with tempfile.TemporaryDirectory() as tmp:
        embedder = config.embedder()
        built = build_index(REPOSITORY / "corpus", Path(tmp) / "index", embedder=embedder)
        runs = run(Index.load(Path(tmp) / "index", embedder=embedder), sets)
    print(f"bundled corpus: {len(built.added)} documents, {built.chunks} chunks; {len(sets.dev)} dev, "
          f"{len(sets.typos)} typo'd, {len(sets.lowercase)} lower-case, {len(sets.followups)} follow-ups, "
          f"{len(sets.topic_changes)} topic changes, {len(sets.small_talk)} small-talk messages\n")
    print(table(rows(runs), markdown=args.markdown))
    print("\nMisses, and answers ranked lower than beside (rank of the first of five passages holding an answer, "
          "'-' for none; a miss is beyond rank 3 for follow-ups and topic changes, beyond 5 otherwise):")
    print("\n".join(f"- {line}" for line in all_misses(runs)) or "- none")


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] if len(values) > 1 else values[0]


def _median_ms(result: Result) -> str:
    return f"{statistics.median(o.seconds for o in result.outcomes) * 1000:.0f}"


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


if __name__ == "__main__":
    main()
