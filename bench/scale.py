"""Scale: build time, size on disk, peak memory and query latency on generated corpora of 10,000+ passages,
and how close approximate (HNSW) search comes to exact search.

Each build runs in its own process so its peak memory (getrusage maxrss) is its own:

    python -m bench.scale CORPUS INDEX [--bare]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import corpus, measure, speed
from qa.chunks import ChunkSettings, chunk_document, searchable_text
from qa.text import sentence_spans
from qa.config import REPOSITORY
from qa.documents import read_corpus
from qa.build import _make_searchers, ann_index, build_index, describe, flat_index, key, record, write_index
from qa.index import Index
from qa.vectors import Embedder

PASSAGES_PER_DOCUMENT = 9  # what corpus.document() makes, measured: ten paragraphs, a few merged
BARE_BATCH = 256


def build_bare(corpus_dir: Path, index_dir: Path, embedder: Embedder | None = None) -> int:
    """Write an index as build_index would, but embedding only each chunk's text, in large batches;
    each sentence row, alone and in context, reuses its chunk's vector, and titles get none (zeros). For
    corpora too large to embed every sentence in the time a benchmark has: search cost and memory are the
    same, answer quality is not measured."""
    embedder = embedder or speed.fastest_embedder()
    embedder.batch_size = BARE_BATCH
    documents, _ = read_corpus(corpus_dir)
    by_id = {d.doc_id: d for d in documents}
    chunks = [chunk for document in documents for chunk in chunk_document(document)]
    texts = [searchable_text(chunk, by_id[chunk.doc_id]) for chunk in chunks]
    counts = [len(sentence_spans(chunk.text)) for chunk in chunks]
    chunk_vectors = embedder.embed(texts)
    sentence_vectors = np.repeat(chunk_vectors, counts, axis=0)
    searchers = _make_searchers(chunk_vectors, sentence_vectors, texts)
    rows = {"chunks": [key(embedder.name, text) for text in texts],
            "sentences": [f"reused-{i}" for i in range(len(sentence_vectors))],
            "sentence_start": [0, *np.cumsum(counts).tolist()],
            "contexts": [f"reused-{i}" for i in range(len(sentence_vectors))],
            "titles": [f"none-{i}" for i in range(len(documents))]}
    manifest = describe(embedder, ChunkSettings(), {d.doc_id: record(d) for d in documents}, len(chunks), len(sentence_vectors), searchers,
                        built="bench (bare)")
    titles = np.zeros((len(documents), embedder.dimension), dtype=np.float32)
    write_index(index_dir, manifest, searchers, (sentence_vectors, titles), documents, chunks, rows)
    return len(chunks)


def build_in_process(corpus_dir: Path, index_dir: Path, bare: bool, embedder: Embedder | None = None) -> dict:
    """Build, and report seconds and this process's peak memory."""
    embedder = embedder or speed.fastest_embedder()
    started = time.perf_counter()
    if bare:
        chunks = build_bare(corpus_dir, index_dir, embedder)
    else:
        chunks = build_index(corpus_dir, index_dir, embedder=embedder).chunks
    seconds = time.perf_counter() - started
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"chunks": chunks, "seconds": seconds, "peak_mb": maxrss_kb / 1024}


def build_subprocess(corpus_dir: Path, index_dir: Path, bare: bool) -> dict:
    command = [sys.executable, "-m", "bench.scale", str(corpus_dir), str(index_dir)] + (["--bare"] if bare else [])
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPOSITORY)
    return json.loads(done.stdout.strip().splitlines()[-1])


def recall(index: Index, vectors: np.ndarray, k: int = 10) -> dict[str, float]:
    """recall@k of an HNSW index of the chunk vectors against exact search, and the time per query of each."""
    stored = index.dense.reconstruct_n(0, index.dense.ntotal)
    exact = flat_index(stored)
    approximate = index.dense if type(index.dense).__name__ == "IndexHNSWFlat" else ann_index(stored)
    found, exact_times, ann_times = [], [], []
    for vector in vectors:
        query = vector.reshape(1, -1)
        exact_times.append(measure.seconds(exact.search, query, k))
        ann_times.append(measure.seconds(approximate.search, query, k))
        truth = set(exact.search(query, k)[1][0])
        found.append(len(truth & set(approximate.search(query, k)[1][0])) / k)
    return {"recall": float(np.mean(found)), "exact": measure.p50(exact_times), "hnsw": measure.p50(ann_times)}


def scale_run(folder: Path, passages: int, *, bare: bool, questions: int, rounds: int,
              embedder: Embedder | None = None) -> dict:
    """Generate a corpus of about `passages` passages, build it in a subprocess, then time queries."""
    corpus_dir = corpus.write_corpus(folder / "corpus", max(1, passages // PASSAGES_PER_DOCUMENT))
    index_dir = folder / "index"
    built = build_subprocess(corpus_dir, index_dir, bare)
    index = Index.load(index_dir, embedder=embedder or speed.fastest_embedder())
    asked = corpus.questions(questions)
    samples = speed.latency(index, asked, rounds)
    return built | {
        "bare": bare,
        "size": measure.folder_bytes(index.path),
        "searcher": type(index.dense).__name__,
        "samples": samples,
        "recall": recall(index, index.embedder.embed(asked)),
    }


def scale_table(results: list[dict]) -> str:
    rows = []
    for r in results:
        s = r["samples"]
        rows.append((
            f"{r['chunks']:,}" + (" (bare)" if r["bare"] else ""), r["searcher"], f"{r['seconds']:.0f} s",
            measure.mb(r["size"]), f"{r['peak_mb']:.0f} MB",
            f"{measure.ms(measure.p50(s['retrieve']))} / {measure.ms(measure.p95(s['retrieve']))}",
            f"{measure.ms(measure.p50(s['floor']))} / {measure.ms(measure.p95(s['floor']))}",
            measure.ratio(measure.p50(s["retrieve"]), measure.p50(s["floor"])),
            f"{measure.ms(measure.p50(s['answer']))} / {measure.ms(measure.p95(s['answer']))}",
        ))
    return measure.table(["passages", "chunk search", "build", "on disk", "peak memory (build)",
                          "retrieve p50 / p95", "floor p50 / p95", "retrieve / floor (p50)", "answer p50 / p95"], rows)


def recall_table(results: list[dict]) -> str:
    rows = [(f"{r['chunks']:,}", f"{r['recall']['recall']:.3f}", measure.ms(r["recall"]["exact"]),
             measure.ms(r["recall"]["hnsw"])) for r in results]
    return measure.table(["passages", "HNSW recall@10 vs exact", "exact search p50", "HNSW search p50"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="Build one index and print its seconds and peak memory as JSON.")
    parser.add_argument("corpus_dir", type=Path)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--bare", action="store_true", help="Embed chunk texts only, in large batches.")
    args = parser.parse_args()
    print(json.dumps(build_in_process(args.corpus_dir, args.index_dir, args.bare)))


if __name__ == "__main__":
    main()
