"""Speed and scale benchmarks, printed as Markdown tables.

    python -m bench            # the full suite: 1,000-document rebuilds, 10,000 and 100,000 passages
    python -m bench --quick    # small sizes, about a minute

Each figure is set against the floor it cannot beat (bare embedding, a bare FAISS search, a bare import of
torch or gradio), measured in the same run, so the ratios hold even when something else loads the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench import coldstart, measure, scale, speed
from qa.config import REPOSITORY
from qa.build import build_index
from qa.index import ANN_THRESHOLD, Index

CORPUS = REPOSITORY / "corpus"
BARE_ABOVE = 20_000  # passages: larger scale indexes embed chunk texts only (see scale.build_bare), to fit the time


@dataclass(frozen=True)
class Sizes:
    rounds: int  # times each question is asked, for latency
    repeat: int  # builds, rebuilds and cold starts, for medians
    documents: int  # generated documents for the incremental rebuild
    scales: tuple[tuple[int, bool], ...]  # (passages, bare build?) for the scale runs
    scale_questions: int
    scale_rounds: int


QUICK = Sizes(rounds=2, repeat=1, documents=50, scales=((1_000, True),), scale_questions=8, scale_rounds=1)
FULL = Sizes(rounds=5, repeat=3, documents=1_000, scales=((10_000, False), (100_000, True)), scale_questions=20,
             scale_rounds=3)


SECTIONS = ("latency", "throughput", "incremental", "cold", "scale")


def run(sizes: Sizes, folder: Path, sections: tuple[str, ...] = SECTIONS) -> dict:
    """The chosen measurements, printing each table as soon as it is ready; the results, for targets()."""
    embedder = speed.fastest_embedder()
    results: dict = {}
    bundled = folder / "bundled-index"
    build_index(CORPUS, bundled, embedder=embedder)
    index = Index.load(bundled)  # questions through the index's own (ONNX) question encoder, as answering does

    if "latency" in sections:
        section(f"Query latency, bundled corpus ({len(index.chunks)} chunks, warm, {sizes.rounds} rounds "
                f"of {len(speed.BUNDLED_QUESTIONS)} questions)")
        results["latency"] = speed.latency(index, speed.BUNDLED_QUESTIONS, sizes.rounds,
                                           before=Index.load(bundled, embedder=embedder))
        print(speed.latency_table(results["latency"]))
        print(f"\nfloor = embed the question with the index's question encoder (ONNX Runtime, fp32) + one FAISS "
              f"search of the same chunk index. Before: questions embedded by the Embedder ({embedder.precision}).")

    if "throughput" in sections:
        section(f"Build throughput, bundled corpus (median of {sizes.repeat})")
        results["throughput"] = speed.build_throughput(CORPUS, embedder, sizes.repeat)
        print(speed.throughput_table(results["throughput"]))

    if "incremental" in sections:
        section(f"Incremental rebuild, {sizes.documents} generated documents + 1 (full build: one run; "
                f"rebuild: median of {sizes.repeat})")
        results["incremental"] = speed.incremental(folder / "incremental", sizes.documents, embedder, sizes.repeat)
        print(speed.incremental_table(results["incremental"]))

    if "cold" in sections:
        section(f"Cold start to the first answer, bundled corpus, index built ({sizes.repeat} rounds)")
        results["cold"] = coldstart.cold_start(CORPUS, bundled, sizes.repeat)
        print(coldstart.cold_start_table(results["cold"]))

    if "scale" in sections:
        results["scale"] = []
        for passages, bare in sizes.scales:
            section(f"Scale, about {passages:,} generated passages (approximate search above {ANN_THRESHOLD:,} chunks)")
            result = scale.scale_run(folder / f"scale-{passages}", passages, bare=bare,
                                     questions=sizes.scale_questions, rounds=sizes.scale_rounds)
            results["scale"].append(result)
            print(scale.scale_table([result]))
            print()
            print(scale.recall_table([result]))
        print(f"\nPeak memory is the building process's maxrss; {scale.PASSAGES_PER_DOCUMENT} passages per document; "
              f"{sizes.scale_questions} generated questions, {sizes.scale_rounds} rounds. HNSW: faiss.IndexHNSWFlat, "
              "inner product, the settings in qa/index.py (built over the same vectors where the index itself is "
              "exact).")
        if any(r["bare"] for r in results["scale"]):
            print(f"\n(bare) = built by bench.scale.build_bare, not build_index: only each chunk's text is embedded, "
                  f"by the bare Embedder in batches of {scale.BARE_BATCH}, and each sentence row reuses its chunk's "
                  "vector (embedding every sentence would not fit the suite's time). Searches, index size and "
                  "latency are those of a real index of that size; answer quality is not measured.")

    section("Targets")
    print(targets(results))
    return results


def targets(results: dict) -> str:
    """Each target of the sections that ran, the measured figure, and whether it is met."""
    rows = []
    if "latency" in results:
        latency = results["latency"]
        bundled = measure.p50(latency["retrieve"]) / measure.p50(latency["floor"])
        rows.append(("retrieve p50 ≤ 1.3x floor, bundled corpus", f"{bundled:.2f}x", bundled <= 1.3))
        before = latency.get("floor, questions embedded by torch (before)")
        if before:  # the floor as it was: the question embedded by torch, one FAISS search
            against = measure.p50(latency["retrieve"]) / measure.p50(before)
            rows.append(("retrieve p50 ≤ 1.3x the floor as it was (question embedded by torch + one FAISS search)",
                         f"{against:.2f}x", against <= 1.3))
    if "throughput" in results:
        throughput = results["throughput"]
        per_text, per_chunk = (throughput[key] / throughput["build"] for key in ("bare all", "bare chunks"))
        rows.append(("build ≥ 0.9x bare embedding, per embedded text", f"{per_text:.2f}x", per_text >= 0.9))
        rows.append(("build ≥ 0.9x bare embedding, per chunk (bare embeds chunk texts only)", f"{per_chunk:.2f}x",
                     per_chunk >= 0.9))
    if "cold" in results:
        cold = results["cold"]
        for name, target, floor in (("qa ask", 1.0, "import torch"), ("qa serve", 1.5, "import gradio")):
            each = coldstart.ratios(cold, name)
            rows.append((f"cold `{name}` ≤ {target}x a bare `{floor}` (median of the rounds' ratios)",
                         f"{measure.p50(each):.2f}x", measure.p50(each) <= target))
    if "incremental" in results:
        incremental = results["incremental"]
        share = incremental["rebuild"] / incremental["full"]
        rows.append((f"rebuild after one added document ≤ 5% of full build ({incremental['documents']} documents)",
                     f"{share:.1%}", share <= 0.05))
        rows.append(("rebuild embeds only the added document's chunks",
                     f"{incremental['embedded']} of {incremental['added chunks']}",
                     incremental["embedded"] == incremental["added chunks"]))
    if results.get("scale"):
        largest = max(results["scale"], key=lambda r: r["chunks"])
        at_scale = measure.p50(largest["samples"]["retrieve"]) / measure.p50(largest["samples"]["floor"])
        rows.append((f"retrieve p50 ≤ 2x floor at {largest['chunks']:,} passages", f"{at_scale:.2f}x", at_scale <= 2))
        rows.append((f"HNSW recall@10 ≥ 0.95 at {largest['chunks']:,} passages", f"{largest['recall']['recall']:.3f}",
                     largest["recall"]["recall"] >= 0.95))
    return measure.table(["target", "measured", "met"], [(t, m, "yes" if ok else "**no**") for t, m, ok in rows])


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes and single runs: about a minute.")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="Run only these sections.")
    parser.add_argument("--passages", nargs="+", type=int,
                        help=f"Scale runs at these sizes instead (above {BARE_ABOVE:,}: bare build).")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"# qa benchmarks{' (quick)' if args.quick else ''}\n")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"Embedder precision: {speed.fastest_embedder().precision}")
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        sizes = QUICK if args.quick else FULL
        if args.passages:
            sizes = replace(sizes, scales=tuple((n, n > BARE_ABOVE) for n in args.passages))
        run(sizes, Path(tmp), tuple(args.only))
    print(f"\n{time.perf_counter() - started:.0f} s in all.")


if __name__ == "__main__":
    main()
