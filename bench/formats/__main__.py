"""The bundled documents as people hold them (PDF, Word, PowerPoint, web pages, scans): answered as well as the
Markdown originals? In one run, each format indexed afresh and asked the same questions.

    python -m bench.formats                          # every format, English and Japanese
    python -m bench.formats --only markdown,docx     # some of them
    python -m bench.formats --misses                 # and the questions each missed
    python -m bench.formats --speed                  # only how many pages a second the PDF reader reads

Two sets of renderings: bench/formats/ (render.py: LibreOffice, reportlab, python-docx, python-pptx, pdftoppm),
which the readers were developed on, and bench/formats-blind/ (make.py: Chromium's print to PDF, LibreOffice
Writer from ODT with two columns and indented paragraphs, an Impress deck of hand-placed text boxes, 150 dpi skewed
scans), made by a helper who never saw the readers: the check. Two sets of questions: the development sets
(../shared/eval/dev_qa.jsonl; bench/japanese/questions.jsonl for the Japanese documents) and blind ones written
from the documents' text alone (blind_questions*.jsonl here). Per format: hit@1 and hit@5 with the difference
from the originals, short answers; the passages holding a running header, footer or page number, a word split by
a line-end hyphen ("Brus- sels"), or starting mid-word; the documents with title, publisher and date; the PDF and
deck passages whose citation names a page; the reading speed in pages per second (OCR included where the format
is a scan); the build time.
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
BLIND = FORMATS.parent / "formats-blind"  # other producers' renderings, made without seeing the readers: the check
MARKDOWN = REPOSITORY / "corpus"
ENGLISH = {"markdown": MARKDOWN, **{name: FORMATS / name for name in (
    "html", "docx", "pptx", "libreoffice-pdf", "reportlab-pdf", "pptx-pdf", "scan")},
    **{f"blind: {name}": BLIND / name for name in ("chromium-print", "writer-odt-pdf", "impress-pdf", "scan-150dpi")}}
JAPANESE_FORMATS = {"japanese-markdown": JAPANESE / "corpus", "japanese-pdf": FORMATS / "japanese-pdf",
                    "japanese-scan": FORMATS / "japanese-scan", "blind: japanese-chromium": BLIND / "japanese-chromium"}
QUESTIONS = {  # (English, Japanese) question files: the development sets, and blind ones written from the text only
    "dev": (EVAL / "dev_qa.jsonl", JAPANESE / "questions.jsonl"),
    "blind": (FORMATS / "blind_questions.jsonl", FORMATS / "blind_questions_ja.jsonl"),
}
RUNNING = re.compile(r"\bPage \d+ of \d+\b|\bPage \d+\b|\b\d+ ?/ ?\d+$|[-–] ?\d+ ?[-–]|\d{1,2}/\d{1,2}/\d{2}, \d")
SPLIT = re.compile(r"[^\W\d_]- [a-z]")  # "Brus- sels": a line-end hyphen left in, and a space after it
MID_WORD = re.compile(r"^[a-z]")  # a passage starting in the middle of a word or sentence


def corpus_of(rendered: Path, originals: Path, folder: Path) -> Path:
    """A corpus folder: each original document as rendered in the folder rendered, where it is, else as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    renderings = {path.stem: path for path in rendered.iterdir() if path.is_file() and not path.name.startswith(".")}
    for original in originals.iterdir():
        if original.is_file():
            chosen = renderings.get(original.stem, original)
            shutil.copy(chosen, folder / chosen.name)
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


def evaluate_format(name: str, rendered: Path, originals: Path, questions: dict[str, Path]) -> dict:
    """Index the corpus of one format and ask it each question file: {question set: scores}, with its passage checks."""
    with tempfile.TemporaryDirectory() as scratch:
        corpus = corpus_of(rendered, originals, Path(scratch) / "corpus")
        checks = passage_checks(corpus)
        started = time.perf_counter()
        build_index(corpus, Path(scratch) / "index")
        built = time.perf_counter() - started
        found = {"format": name, "build s": built, **checks}
        for label, path in questions.items():
            if not path.exists():
                continue
            result = evaluate.run(path, k=5, corpus_dir=corpus, index_dir=Path(scratch) / "index", baselines=False)[0]
            scores = evaluate.metrics(result)
            found[label] = {"hit@1": scores["answer-hit@1"], "hit@5": scores["answer-hit@5"],
                            "short answer": scores["short answer has answer"],
                            "abstains": scores["abstains on out_of_scope"], "misses": evaluate.misses(result)}
        return found


def row(found: dict, base: dict, labels: list[str]) -> str:
    def number(value, digits: int = 2) -> str:
        return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    cells = []
    for label in labels:
        scores, base_scores = found.get(label), base.get(label)
        if not scores:
            cells += ["–"] * 3
            continue
        cells += [f"{number(scores['hit@1'])} ({scores['hit@1'] - base_scores['hit@1']:+.2f})",
                  f"{number(scores['hit@5'])} ({scores['hit@5'] - base_scores['hit@5']:+.2f})",
                  number(scores["short answer"])]
    checks = [number(found[key]) for key in ("running header/footer", "split words", "start mid-word", "passages",
                                             "title+publisher+date", "page in citation")]
    return f"| {found['format']} | " + " | ".join(cells + checks + [number(found["pages/s"], 0),
                                                                   number(found["build s"], 1)]) + " |"


def header(labels: list[str]) -> str:
    names = [f"{label} {metric}" for label in labels for metric in ("hit@1 (Δ)", "hit@5 (Δ)", "short answer")]
    names += ["passages with header/footer", "split words", "passages starting mid-word", "passages",
              "docs with title+publisher+date", "PDF/deck passages citing a page", "pages/s read", "build s"]
    return "| format | " + " | ".join(names) + " |\n" + "|---" * (len(names) + 1) + "|"


def reading_speed(rounds: int = 5) -> None:
    """Pages per second the PDF reader reads, OCR apart: every PDF with a text layer, read rounds times after
    one read to warm up, best round reported (the machine is shared)."""
    from qa.readers.pdf import read_pdf

    files = [path for folder in [*ENGLISH.values(), *JAPANESE_FORMATS.values()] if "scan" not in folder.name
             for path in sorted(folder.glob("*.pdf"))]
    data = [(path.read_bytes(), path.name) for path in files]
    pages = sum(read_pdf(content, name).text.count(PAGE_BREAK) + 1 for content, name in data)
    best = min(_timed(lambda: [read_pdf(content, name) for content, name in data]) for _ in range(rounds))
    print(f"{len(files)} PDFs, {pages} pages: {pages / best:.0f} pages/s (best of {rounds} rounds, {best:.2f} s)")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated formats (default: all), e.g. markdown,docx,'blind: scan-150dpi'")
    parser.add_argument("--misses", action="store_true", help="list each format's missed questions")
    parser.add_argument("--speed", action="store_true", help="only the PDF reader's pages per second")
    args = parser.parse_args()
    if args.speed:
        reading_speed()
        return
    chosen = args.only.split(",") if args.only else [*ENGLISH, *JAPANESE_FORMATS]
    for language, (formats, originals) in enumerate(((ENGLISH, MARKDOWN), (JAPANESE_FORMATS, JAPANESE / "corpus"))):
        names = [name for name in formats if name in chosen]
        if not names:
            continue
        base = next(iter(formats))  # the originals, which every format is compared with
        questions = {label: files[language] for label, files in QUESTIONS.items()}
        labels = [label for label, path in questions.items() if path.exists()]
        results = [evaluate_format(name, formats[name], originals, questions) for name in dict.fromkeys([base, *names])]
        print(f"\n{header(labels)}")
        for found in results:
            print(row(found, results[0], labels), flush=True)
        if args.misses:
            for found in results:
                for label in labels:
                    print(f"\n{found['format']}, {label}:", *found[label]["misses"], sep="\n  ")


if __name__ == "__main__":
    main()
