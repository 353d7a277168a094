"""Query latency, build throughput and incremental rebuilds, each against the bare work it cannot avoid.

The floor of a query is embedding it with the index's own question encoder plus one FAISS search of the same index;
the floor of a build is embedding the same texts. Timings of a measurement and its floor are
interleaved, so a neighbour's load on the machine falls on both and the ratio stays fair.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import qa
from bench import corpus, measure
from qa.chunks import chunk_document, searchable_text, sentence_in_context
from qa.text import sentence_spans
from qa.documents import read_corpus
from qa.build import build_index
from qa.index import Index
from qa.probes import OFF_TOPIC_PROBES
from qa.retrieve import CANDIDATES
from qa.vectors import Embedder

BUNDLED_QUESTIONS = [
    "Who co-chaired the third Digital Partnership Council?",
    "Who leads the 6G MIRAI-HARMONY project?",
    "How has cooperation on semiconductors evolved?",
    "What was agreed on submarine cables?",
    "When will the fourth Digital Partnership Council take place?",
    "What did the EU and Japan say about data spaces?",
    "How tall is Mount Everest?",
    "Which ministers attended the council meeting in Tokyo?",
]


def fastest_embedder(model: str | None = None) -> Embedder:
    """The Embedder at its fastest precision on this CPU: bf16 where native, else fp32."""
    return Embedder(model, precision="auto")


def floor_query(index: Index, question: str) -> None:
    """The least any search must do: embed the question (with the index's embedder: its question encoder unless
    another was given at load), one FAISS search of the chunk vectors."""
    vector = index.embedder.embed([question])[0]
    index.dense.search(vector.reshape(1, -1), min(CANDIDATES, index.dense.ntotal))


def latency(index: Index, questions: list[str], rounds: int, *, before: Index | None = None) -> dict[str, list[float]]:
    """Seconds per call of retrieve(), answer() and the floor, warm, interleaved question by question; and of
    retrieve() on before, the same index with another question embedder (torch, as before the ONNX encoder), and
    its floor, interleaved in a pass of their own after the first: torch's threads go on spinning a while after each
    of its calls, and the call after one ran about twice as slow (retrieve 15-17 ms against 8.4-8.9 ms, in one
    process; answer, which came second, hardly slowed: BENCHMARKS, "Warm retrieve's own work")."""
    samples = interleaved({
        "retrieve": lambda q: qa.retrieve(q, index=index),
        "answer": lambda q: qa.answer(q, index=index),
        "floor": lambda q: floor_query(index, q),
    }, questions, rounds)
    if before is not None:
        samples |= interleaved({
            "retrieve, questions embedded by torch (before)": lambda q: qa.retrieve(q, index=before),
            "floor, questions embedded by torch (before)": lambda q: floor_query(before, q),
        }, questions, rounds)
    return samples


def interleaved(calls: dict, questions: list[str], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each of calls, warm, the calls taking turns question by question."""
    for question in questions:  # warm: model loaded, caches filled
        for call in calls.values():
            call(question)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for question in questions:
            for name, call in calls.items():
                samples[name].append(measure.seconds(call, question))
    return samples


def latency_table(samples: dict[str, list[float]]) -> str:
    floor = samples["floor"]
    rows = [
        (name, measure.ms(measure.p50(s)), measure.ms(measure.p95(s)),
         measure.ratio(measure.p50(s), measure.p50(floor)), measure.ratio(measure.p95(s), measure.p95(floor)))
        for name, s in samples.items()
    ]
    return measure.table(["call", "p50", "p95", "p50 / floor", "p95 / floor"], rows)


def texts_of(corpus_dir: Path) -> tuple[list[str], list[str]]:
    """What build_index embeds for a corpus: each chunk with its context; and the rest: each chunk's
    sentences, alone and in context (chunks.sentence_in_context), and each document's title."""
    documents, _ = read_corpus(corpus_dir)
    chunks, rest = [], []
    for document in documents:
        rest.append(document.title)
        for chunk in chunk_document(document):
            chunks.append(searchable_text(chunk, document))
            sentences = [chunk.text[s:e] for s, e in sentence_spans(chunk.text)]
            rest += sentences + [sentence_in_context(sentence, chunk, document) for sentence in sentences]
    return chunks, rest


def build_throughput(corpus_dir: Path, embedder: Embedder, repeat: int) -> dict[str, float]:
    """Median seconds of a full build_index, and of bare embedding of the same texts, interleaved."""
    chunks, rest = texts_of(corpus_dir)
    probes = list(OFF_TOPIC_PROBES)
    builds, bare_chunks, bare_rest = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            builds.append(measure.seconds(lambda: build_index(corpus_dir, Path(tmp), embedder=embedder)))
        bare_chunks.append(measure.seconds(lambda: embedder.embed(chunks)))
        bare_rest.append(measure.seconds(lambda: (embedder.embed(rest), embedder.embed(probes))))
    return {
        "chunks": len(chunks),
        "texts": len(chunks) + len(rest) + len(probes),
        "build": measure.p50(builds),
        "bare chunks": measure.p50(bare_chunks),
        "bare all": measure.p50([c + r for c, r in zip(bare_chunks, bare_rest)]),
    }


def throughput_table(result: dict[str, float]) -> str:
    chunks, texts, build = result["chunks"], result["texts"], result["build"]
    rows = [
        (name, f"{result[key]:.2f} s", f"{chunks / result[key]:.0f}", f"{texts / result[key]:.0f}",
         f"{result[key] / build:.2f}x")
        for name, key in (
            ("build_index (embeds chunks, sentences, titles and the probes)", "build"),
            ("bare embed of the same texts", "bare all"),
            ("bare embed of the chunk texts only", "bare chunks"),
        )
    ]
    return (
        measure.table(["work", "seconds (median)", "chunks/s", "embedded texts/s", "build throughput / this"], rows)
        + f"\n\n{chunks} chunks, {texts} embedded texts: each chunk with its context, each of its sentences alone and"
        f" after its title and heading, each title, and the {len(OFF_TOPIC_PROBES)} off-topic probes that calibrate"
        " abstention."
    )


class CountingEmbedder:
    """An Embedder that counts the texts it is asked to embed; everything else is the inner Embedder's."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.texts = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def embed(self, texts: list[str], *, progress: bool = False):
        self.texts += len(texts)
        return self.inner.embed(texts, progress=progress)


def incremental(folder: Path, documents: int, embedder: Embedder, repeat: int) -> dict:
    """A full build of a generated corpus, then rebuilds after adding one document (median of repeat)."""
    corpus_dir = corpus.write_corpus(folder / "corpus", documents)
    index_dir = folder / "index"
    full = measure.seconds(lambda: build_index(corpus_dir, index_dir, embedder=embedder))
    rebuilds, reports, counting = [], [], CountingEmbedder(embedder)
    for _ in range(repeat):
        added = corpus.add_document(corpus_dir)
        counting.texts = 0
        rebuilds.append(measure.seconds(lambda: reports.append(build_index(corpus_dir, index_dir, embedder=counting))))
        added.unlink()
        build_index(corpus_dir, index_dir, embedder=embedder)  # back to the corpus without it, for the next round
    added_chunks, added_rest = _added_texts(folder)
    return {
        "documents": documents,
        "chunks": reports[-1].chunks,
        "full": full,
        "rebuild": measure.p50(rebuilds),
        "embedded": reports[-1].embedded,
        "added": reports[-1].added,
        "added chunks": added_chunks,
        "added other texts": added_rest,
        "texts embedded": counting.texts,
    }


def _added_texts(folder: Path) -> tuple[int, int]:
    """How many chunks, and other texts (see texts_of), the added document makes."""
    single = folder / "added"
    shutil.rmtree(single, ignore_errors=True)
    single.mkdir(parents=True)
    corpus.add_document(single)
    chunks, rest = texts_of(single)
    return len(chunks), len(rest)


def incremental_table(result: dict) -> str:
    share = result["rebuild"] / result["full"]
    rows = [
        ("full build", f"{result['documents']} documents, {result['chunks']} chunks", f"{result['full']:.2f} s", ""),
        ("rebuild after adding one document", ", ".join(result["added"]), f"{result['rebuild']:.2f} s", f"{share:.1%}"),
    ]
    expected = result["added chunks"]
    return (
        measure.table(["build", "corpus", "seconds", "of full build"], rows)
        + f"\n\nreport.embedded = {result['embedded']} (the added document has {expected} chunks: "
        + ("equal" if result["embedded"] == expected else "NOT equal")
        + f"); texts sent to the model = {result['texts embedded']} "
        f"({result['added chunks']} chunks + {result['added other texts']} sentences alone and in context and its title"
        " + the off-topic probes)."
    )
