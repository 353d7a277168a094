"""Could other weights on the same signals rank the right passage first more often?

search() ranks its candidates by one hand-set blend of their signals (qa.retrieve.fuse). This fits
weights for nine signals of the same candidates on one question set and scores them on the other, both
ways, beside that blend, and finds the best any non-negative weights reach on each set itself. If fitted
weights do no better out of sample, the remaining misses need a signal these do not hold, not other weights.

    python -m bench.fusion [--dev ../shared/eval/dev_qa.jsonl]

Development questions are asked of the bundled corpus, growth questions of the grown one (bench.growth).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.growth import GROWTH, grown_corpus
from qa import config, evaluate
from qa.chunks import searchable_text
from qa.text import sentence_spans
from qa.config import REPOSITORY
from qa.build import build_index, open_index
from qa.index import Index
from qa.text import terms as query_terms
from qa.question import clean_question
from qa.quote import term_share
from qa.retrieve import candidates, fuse, scaled

SIGNALS = ("chunk cosine", "best sentence cosine", "BM25", "question terms in chunk", "question terms in sentence",
           "best score in its document", "best sentence in context", "title (negated)", "holds a date (when-questions)")
SEARCH = [0, 1, 2, 6, 7, 8]  # the signals search() uses
SHARPNESS = 10.0  # softmax temperature of the fitted ranking: scores are in [0, 1] per signal
STEPS, RATE, L2 = 3000, 0.05, 0.01


@dataclass(frozen=True)
class Question:
    """One fact question: the signals of each of its candidates, and which candidates hold an accepted answer."""

    id: str
    signals: np.ndarray  # candidates x SIGNALS
    blend: np.ndarray  # search()'s own score of each candidate (before it drops near-duplicates)
    hits: np.ndarray  # bool per candidate


def signals(index: Index, query: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The candidates search() would look at, SIGNALS for each (every column in [0, 1]), and search()'s score."""
    query = clean_question(query)
    found = candidates(query, index.embedder.embed([query])[0], index)
    terms = query_terms(query)
    weights = index.idf(terms)
    chunks = [index.chunks[i] for i in found.ids]
    in_chunk = [term_share(searchable_text(c, index.documents[c.doc_id]), terms, weights) for c in chunks]
    in_sentence = [max(term_share(c.text[s:e], terms, weights) for s, e in sentence_spans(c.text)) for c in chunks]
    dense = found.chunk_cosine + found.best_sentence
    best_in_document: dict[str, float] = {}
    for chunk, score in zip(chunks, dense):
        best_in_document[chunk.doc_id] = max(best_in_document.get(chunk.doc_id, -np.inf), float(score))
    columns = [scaled(found.chunk_cosine), scaled(found.best_sentence), scaled(found.keyword), in_chunk,
               in_sentence, scaled(np.array([best_in_document[c.doc_id] for c in chunks])), scaled(found.best_in_context),
               1 - scaled(found.title), found.answer_type]
    return found.ids, np.column_stack(columns).astype(float), fuse(found)


def questions(index: Index, path: Path) -> list[Question]:
    rows = []
    for q in evaluate.load_questions(path):
        if q["kind"] == "fact":
            ids, x, blend = signals(index, q["question"])
            hits = np.array([evaluate.contains(index.chunks[i].text, q["answers"]) for i in ids])
            rows.append(Question(q.get("id", "?"), x, blend, hits))
    return rows


def fit(train: list[Question], columns: list[int]) -> np.ndarray:
    """Weights that make the candidates holding an answer likely under a softmax over each question's
    candidates (listwise learning to rank), fitted by gradient descent with a little L2."""
    weights = np.full(len(columns), 1.0 / len(columns))
    usable = [q for q in train if q.hits.any()]
    for _ in range(STEPS):
        gradient = 2 * L2 * weights
        for q in usable:
            x = q.signals[:, columns]
            p = _softmax(SHARPNESS * x @ weights)
            wanted = p * q.hits / (p * q.hits).sum()
            gradient += SHARPNESS * x.T @ (p - wanted) / len(usable)
        weights -= RATE * gradient
    return weights


def simplex(dimensions: int, step: float):
    """Every weighting of dimensions signals, non-negative, summing to 1, in steps of step."""
    n = round(1 / step)
    for cut in itertools.combinations(range(n + dimensions - 1), dimensions - 1):  # stars and bars
        parts = np.diff([-1, *cut, n + dimensions - 1]) - 1
        yield parts / n


def best_possible(test: list[Question], columns: list[int], step: float) -> float:
    """The highest hit@1 any weighting on simplex(step) reaches on test itself: an upper bound for those signals."""
    return max(np.mean([r == 1 for r in ranks(test, lambda q, w=w: q.signals[:, columns] @ w)])
               for w in simplex(len(columns), step))


def ranks(test: list[Question], score) -> list[int | None]:
    """1-based rank of the first candidate holding an answer, per question, under score(question)."""
    found = []
    for q in test:
        order = np.argsort(-score(q), kind="stable")
        hit = np.flatnonzero(q.hits[order])
        found.append(int(hit[0]) + 1 if len(hit) else None)
    return found


def hit1_mrr(test: list[Question], score) -> str:
    r = ranks(test, score)
    return f"{np.mean([x == 1 for x in r]):.2f} / {np.mean([1 / x if x else 0.0 for x in r]):.3f}"


def report(sets: dict[str, list[Question]]) -> str:
    names = list(sets)
    lines = ["| ranking | signals | fitted on | " + " | ".join(f"{n}: hit@1 / MRR" for n in names) + " |",
             "|---" * (3 + len(names)) + "|"]
    lines.append("| search() blend | those of search() | (hand-set) | " + " | ".join(hit1_mrr(sets[n], lambda q: q.blend) for n in names) + " |")
    for label, columns in (("dense, BM25", [0, 1, 2]), ("those of search()", SEARCH),
                           ("all nine", list(range(len(SIGNALS))))):
        for train in names:
            w = fit(sets[train], columns)
            cells = [hit1_mrr(sets[n], lambda q, w=w, c=columns: q.signals[:, c] @ w) + (" (in sample)" if n == train else "")
                     for n in names]
            weights = ", ".join(f"{SIGNALS[c]} {v / np.abs(w).sum():.2f}" for c, v in zip(columns, w))
            lines.append(f"| fitted ({weights}) | {label} | {train} | " + " | ".join(cells) + " |")
        step = {3: 0.05, 5: 0.05}.get(len(columns), 0.1)
        cells = [f"{best_possible(sets[n], columns, step):.2f}" for n in names]
        lines.append(f"| best any weights reach (grid, step {step}) | {label} | each set itself | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max())
    return e / e.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"))
    args = parser.parse_args()
    embedder = config.embedder()
    with tempfile.TemporaryDirectory() as tmp:
        bundled = Path(tmp) / "bundled"
        shutil.copytree(REPOSITORY / "corpus", bundled)
        grown = grown_corpus(Path(tmp) / "grown")
        for corpus in (bundled, grown):
            build_index(corpus, Path(tmp) / f"{corpus.name}-index", embedder=embedder)
        sets = {
            "dev (bundled corpus)": questions(open_index(bundled, Path(tmp) / "bundled-index", embedder), Path(args.dev)),
            "growth (grown corpus)": questions(open_index(grown, Path(tmp) / "grown-index", embedder),
                                               GROWTH / "questions.jsonl"),
        }
    print(report(sets))


if __name__ == "__main__":
    main()
