"""Does the assistant stay ahead of the baselines when the corpus grows?

Builds an index of the bundled corpus plus bench/growth/corpus/ (eight more documents, three of them
about other partnerships, as distractors) in a temporary folder, and scores this project and both
baselines on the development questions, on bench/growth/questions.jsonl and on the held-out questions
of bench/heldout/ (written blind to the system's rankings), in one run. Then adds the four documents of
bench/blind2/corpus/ to a second index and scores the second held-out set, bench/blind2/, on it, and
the questions of bench/numbers/ (numbers and amounts of money the documents state or lack).

With --headerless the documents come as they arrive without metadata: each bundled document is replaced by
the capture it was made from (../shared/seeds/, navigation lines and all), and the others lose their header,
so titles and dates are whatever the documents themselves say (documents.own_title, documents.dateline).

    python -m bench.growth [--dev ../shared/eval/dev_qa.jsonl] [--headerless]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import yaml

from qa import evaluate
from qa.config import REPOSITORY
from qa.documents import FRONT_MATTER
from qa.build import build_index

GROWTH = Path(__file__).resolve().parent / "growth"
HELDOUT = Path(__file__).resolve().parent / "heldout"
BLIND2 = Path(__file__).resolve().parent / "blind2"
NUMBERS = Path(__file__).resolve().parent / "numbers"
SEEDS = REPOSITORY.parent / "shared" / "seeds"


def grown_corpus(folder: Path, *more: Path) -> Path:
    """The bundled corpus and the growth documents, and the documents of any more folders, copied into folder."""
    shutil.copytree(REPOSITORY / "corpus", folder)
    for path in (path for extra in (GROWTH / "corpus", *more) for path in extra.iterdir()):
        shutil.copy(path, folder / path.name)
    return folder


def headerless(folder: Path) -> Path:
    """folder's documents without their metadata header, in place; a bundled document whose header names the
    capture it was made from (source, in ../shared/seeds/) is replaced by that capture."""
    for path in sorted(folder.iterdir()):
        text = path.read_text(encoding="utf-8")
        header = FRONT_MATTER.match(text)
        if not header:
            continue
        source = SEEDS / str(yaml.safe_load(header.group(1)).get("source", ""))
        if source.is_file():
            path.unlink()
            shutil.copy(source, folder / source.name)
        else:
            path.write_text(text[header.end() :], encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"))
    parser.add_argument("--headerless", action="store_true", help="documents without their metadata header")
    args = parser.parse_args()
    prepare = headerless if args.headerless else (lambda folder: folder)
    with tempfile.TemporaryDirectory() as tmp:
        grown = prepare(grown_corpus(Path(tmp) / "corpus"))
        report = build_index(grown, Path(tmp) / "index")
        print(f"grown corpus: {len(report.added)} documents, {report.chunks} chunks\n")
        for name, questions in (("development questions", args.dev), ("growth questions", GROWTH / "questions.jsonl"),
                                ("held-out questions", HELDOUT / "questions.jsonl")):
            score(name, Path(questions), grown, Path(tmp) / "index", "the grown corpus")
        if BLIND2.exists():
            more = prepare(grown_corpus(Path(tmp) / "corpus2", BLIND2 / "corpus"))
            report = build_index(more, Path(tmp) / "index2")
            print(f"grown corpus and bench/blind2/corpus: {len(report.added)} documents, {report.chunks} chunks\n")
            for name, questions in (("second held-out questions", BLIND2 / "questions.jsonl"),
                                    ("number and money questions", NUMBERS / "questions.jsonl")):
                score(name, questions, more, Path(tmp) / "index2", "the grown corpus and bench/blind2/corpus")


def score(name: str, questions: Path, corpus: Path, index_dir: Path, corpus_name: str) -> None:
    """Print the eval table of this project and both baselines on questions, and this project's misses."""
    if not questions.exists():
        print(f"({questions} not found; skipped)\n")
        return
    results = evaluate.run(questions, k=5, corpus_dir=corpus, index_dir=index_dir)
    print(f"### {name} on {corpus_name}\n")
    print(evaluate.table(results, markdown=True))
    for line in evaluate.misses(results[0]):
        print(f"- {line}")
    print()


if __name__ == "__main__":
    main()
