"""The bundled documents as people hold them (PDF, Word, PowerPoint, web pages, scans): answered as well as the
Markdown originals? In one run, each format indexed afresh and asked the same questions.

    python -m bench.formats                    # every format of bench/formats/, English and Japanese
    python -m bench.formats --only docx,scan   # some of them
    python -m bench.formats --questions bench/heldout/questions.jsonl

Per format: hit@1, hit@5 and short answers on the development questions (../shared/eval/dev_qa.jsonl, the
Japanese documents' bench/japanese/questions.jsonl for the Japanese PDFs); the passages holding a running header,
footer or page number, a word split by a line-end hyphen ("Brus- sels"), or starting mid-word; the citations with
a title, publisher, date and (for PDFs) a page; and the reading speed in pages per second, OCR apart. The
renderings are made by bench/formats/render.py (see README.md here).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path

from bench.japanese import EVAL, JAPANESE
from qa import evaluate
from qa.build import build_index
from qa.config import REPOSITORY
from qa.documents import PAGE_BREAK, read_corpus

FORMATS = Path(__file__).resolve().parent
MARKDOWN = REPOSITORY / "corpus"
ENGLISH = ("markdown", "html", "docx", "pptx", "libreoffice-pdf", "reportlab-pdf", "pptx-pdf", "scan")
JAPANESE_FORMATS = ("japanese-markdown", "japanese-pdf", "japanese-scan")
RUNNING = re.compile(r"\bPage \d+ of \d+\b|\bPage \d+\b|\d+ / \d+\b|- \d+ -")  # the renderings' footers
SPLIT = re.compile(r"[^\W\d_]- [a-z]")  # "Brus- sels": a line-end hyphen left in, and a space after it
MID_WORD = re.compile(r"^[a-z]")  # a passage starting in the middle of a word or sentence


def corpus_of(name: str, folder: Path) -> Path:
    """A corpus folder of the format name: the renderings, and for Japanese the originals they do not replace."""
    folder.mkdir(parents=True, exist_ok=True)
    if name == "markdown":
        shutil.copytree(MARKDOWN, folder, dirs_exist_ok=True)
        return folder
    if name.startswith("japanese"):
        for original in (JAPANESE / "corpus").iterdir():
            rendered = FORMATS / name / f"{original.stem}.pdf"
            if name == "japanese-markdown" or not rendered.exists():
                shutil.copy(original, folder / original.name)
            else:
                shutil.copy(rendered, folder / rendered.name)
        return folder
    for path in (FORMATS / name).iterdir():
        shutil.copy(path, folder / path.name)
    return folder


def passage_checks(corpus: Path) -> dict[str, float]:
    """What the passages and citations of a corpus look like, and how fast its files are read."""
    started = time.perf_counter()
    documents, skipped = read_corpus(corpus)
    seconds = time.perf_counter() - started
    from qa.chunks import chunk_document

    chunks = [(document, chunk) for document in documents for chunk in chunk_document(document)]
    pdf = [chunk for document, chunk in chunks if document.doc_id.endswith((".pdf", ".pptx"))]
    pages = sum(document.text.count(PAGE_BREAK) + 1 for document in documents)
    return {
        "documents": len(documents), "skipped": len(skipped), "passages": len(chunks),
        "running header/footer": sum(bool(RUNNING.search(chunk.text)) for _, chunk in chunks),
        "split words": sum(len(SPLIT.findall(chunk.text)) for _, chunk in chunks),
        "start mid-word": sum(bool(MID_WORD.match(chunk.text)) for _, chunk in chunks),
        "title+publisher+date": sum(bool(d.title and d.publisher and d.date) for d in documents) / len(documents),
        "page in citation": (sum("page" in chunk.location for chunk in pdf) / len(pdf)) if pdf else None,
        "pages": pages, "pages/s": pages / seconds,
    }


def evaluate_format(name: str, questions: Path) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        corpus = corpus_of(name, Path(scratch) / "corpus")
        checks = passage_checks(corpus)
        started = time.perf_counter()
        build_index(corpus, Path(scratch) / "index")
        built = time.perf_counter() - started
        result = evaluate.run(questions, k=5, corpus_dir=corpus, index_dir=Path(scratch) / "index",
                              baselines=False)[0]
        scores = evaluate.metrics(result)
        return {"format": name, "hit@1": scores["answer-hit@1"], "hit@5": scores["answer-hit@5"],
                "short answer": scores["short answer has answer"], "build s": built, **checks,
                "misses": evaluate.misses(result)}


def row(found: dict, base: dict) -> str:
    def number(key: str, digits: int = 2) -> str:
        value = found[key]
        return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    delta = f"{found['hit@1'] - base['hit@1']:+.2f} / {found['hit@5'] - base['hit@5']:+.2f}"
    return (f"| {found['format']} | {number('hit@1')} | {number('hit@5')} | {number('short answer')} | {delta} | "
            f"{number('running header/footer')} | {number('split words')} | {number('start mid-word')} | "
            f"{number('passages')} | {number('title+publisher+date')} | {number('page in citation')} | "
            f"{number('pages/s', 0)} | {number('build s', 1)} |")


HEADER = ("| format | hit@1 | hit@5 | short answer | Δ hit@1 / hit@5 vs Markdown | passages with header/footer | "
          "split words | passages starting mid-word | passages | docs with title+publisher+date | "
          "PDF/deck passages citing a page | pages/s read | build s |\n" + "|---" * 13 + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated formats (default: all)")
    parser.add_argument("--questions", type=Path, default=EVAL / "dev_qa.jsonl", help="English question file")
    parser.add_argument("--misses", action="store_true", help="list each format's missed questions")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else [*ENGLISH, *JAPANESE_FORMATS]
    for names, questions in ((ENGLISH, args.questions), (JAPANESE_FORMATS, JAPANESE / "questions.jsonl")):
        names = [name for name in names if name in chosen]
        if not names:
            continue
        base_name = names[0] if names[0] in ("markdown", "japanese-markdown") else (
            "markdown" if names[0] in ENGLISH else "japanese-markdown")
        results = [evaluate_format(name, questions) for name in dict.fromkeys([base_name, *names])]
        print(f"\n{questions.name}\n{HEADER}")
        for found in results:
            print(row(found, results[0]), flush=True)
        if args.misses:
            for found in results:
                print(f"\n{found['format']}:", *found["misses"], sep="\n  ")


if __name__ == "__main__":
    main()
