"""Scanned pages: a PDF page with no text layer read by OCR (Tesseract), into the same lines with boxes as a
printed page, each with the paragraph Tesseract found it in and in the order Tesseract reads the page."""

from __future__ import annotations

import functools
import logging
import shutil
import statistics
import subprocess

from qa.errors import UnreadableDocument

log = logging.getLogger(__name__)

LANGUAGES = ("jpn", "eng")  # Tesseract's models for the languages served; together they read English as well as
# English alone does (the same words, mean confidence 93 on the bundled scans) and Japanese besides
DPI = 300  # Tesseract reads best at 300 dots per inch
TIMEOUT = 300  # seconds for one page; a page that takes longer is not read
INSTALL = ("install Tesseract with its English and Japanese models: apt-get install tesseract-ocr tesseract-ocr-eng "
           "tesseract-ocr-jpn")
WORD_LEVEL = "5"  # the rows of Tesseract's TSV output that are words (1 page, 2 block, 3 paragraph, 4 line)


def read_page(page, number: int, name: str) -> list[dict]:
    """The lines of page as Tesseract reads them, in its reading order: {"bbox" (in the page's points), "text",
    "size" (the height of its words, in points), "paragraph" (block and paragraph numbers)}.

    Raises:
        UnreadableDocument: Tesseract or its models are not installed (the message says how to install them), or
            it failed on the page.
    """
    import pymupdf

    program, languages = _tesseract()
    if not languages:
        raise UnreadableDocument(f"{name}: page {number} is a scanned image with no text layer; to read it, {INSTALL}")
    log.info("reading page %d of %s by OCR (%s)", number, name, languages)
    image = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY).tobytes("png")
    try:
        done = subprocess.run([program, "stdin", "stdout", "-l", languages, "--psm", "3", "tsv"], input=image,
                              capture_output=True, timeout=TIMEOUT, check=True)
    except (subprocess.SubprocessError, OSError) as error:
        raise UnreadableDocument(f"{name}: OCR of page {number} failed ({error})") from None
    return _lines(done.stdout.decode("utf-8", errors="replace"), 72 / DPI)


def _lines(tsv: str, scale: float) -> list[dict]:
    """Tesseract's words grouped into its lines, boxes scaled from pixels to points."""
    lines: dict[tuple[str, ...], list[list[str]]] = {}
    for row in (line.split("\t") for line in tsv.splitlines()[1:]):
        if len(row) == 12 and row[0] == WORD_LEVEL and row[11].strip():
            lines.setdefault((row[1], row[2], row[3], row[4]), []).append(row)
    out = []
    for (_, block, paragraph, _), words in lines.items():
        left = min(int(w[6]) for w in words)
        top = min(int(w[7]) for w in words)
        right = max(int(w[6]) + int(w[8]) for w in words)
        bottom = max(int(w[7]) + int(w[9]) for w in words)
        out.append({"bbox": (left * scale, top * scale, right * scale, bottom * scale),
                    "text": " ".join(w[11] for w in words), "paragraph": (int(block), int(paragraph)),
                    "size": statistics.median(int(w[9]) for w in words) * scale})
    return out


@functools.cache
def _tesseract() -> tuple[str, str]:
    """Tesseract's program and the languages of LANGUAGES it has models for ("jpn+eng"), or ("", "") if none."""
    program = shutil.which("tesseract")
    if not program:
        return "", ""
    try:
        listed = subprocess.run([program, "--list-langs"], capture_output=True, timeout=30, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return "", ""
    installed = set(listed.decode(errors="replace").split())
    found = [language for language in LANGUAGES if language in installed]
    return (program, "+".join(found)) if found else ("", "")
