"""Does the assistant stay ahead of the baselines when the corpus grows?

Builds an index of the bundled corpus plus bench/growth/corpus/ (eight more documents, three of them
about other partnerships, as distractors) in a temporary folder, and scores this project and both
baselines on the development questions, on bench/growth/questions.jsonl and on the held-out questions
of bench/heldout/ (written blind to the system's rankings), in one run.

    python -m bench.growth [--dev ../shared/eval/dev_qa.jsonl]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from qa import evaluate
from qa.config import REPOSITORY
from qa.index import build_index

GROWTH = Path(__file__).resolve().parent / "growth"
HELDOUT = Path(__file__).resolve().parent / "heldout"


def grown_corpus(folder: Path) -> Path:
    """The bundled corpus and the growth documents, copied into folder."""
    shutil.copytree(REPOSITORY / "corpus", folder)
    for path in (GROWTH / "corpus").iterdir():
        shutil.copy(path, folder / path.name)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = grown_corpus(Path(tmp) / "corpus")
        index_dir = Path(tmp) / "index"
        report = build_index(corpus, index_dir)
        print(f"grown corpus: {len(report.added)} documents, {report.chunks} chunks\n")
        sets = (("development questions", args.dev), ("growth questions", GROWTH / "questions.jsonl"),
                ("held-out questions", HELDOUT / "questions.jsonl"))
        for name, questions in sets:
            if not Path(questions).exists():
                print(f"({questions} not found; skipped)\n")
                continue
            results = evaluate.run(questions, k=5, corpus_dir=corpus, index_dir=index_dir)
            print(f"### {name} on the grown corpus\n")
            print(evaluate.table(results, markdown=True))
            for line in evaluate.misses(results[0]):
                print(f"- {line}")
            print()


if __name__ == "__main__":
    main()
