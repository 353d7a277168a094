"""Scanned pages: a PDF page with no text layer read by OCR (Tesseract, through PyMuPDF), into the same text
dictionary of lines with boxes as a printed page's."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from qa.errors import UnreadableDocument

log = logging.getLogger(__name__)

LANGUAGES = ("eng", "jpn")  # Tesseract's models for the languages served, where installed
DPI = 300  # Tesseract reads best at 300 dots per inch
INSTALL = "install Tesseract with its English and Japanese models: apt-get install tesseract-ocr tesseract-ocr-eng " \
          "tesseract-ocr-jpn"


def read_page(page, number: int, name: str) -> dict:
    """The text of page as OCR reads it, as PyMuPDF's text dictionary of blocks, lines and spans with their boxes.

    Raises:
        UnreadableDocument: Tesseract's models are not installed (the message says how to install them).
    """
    folder, languages = _models()
    if not languages:
        raise UnreadableDocument(f"{name}: page {number} is a scanned image with no text layer; to read it, {INSTALL}")
    log.info("reading page %d of %s by OCR (%s)", number, name, languages)
    textpage = page.get_textpage_ocr(language=languages, dpi=DPI, full=True, tessdata=folder)
    return page.get_text("dict", textpage=textpage)


@functools.cache
def _models() -> tuple[str, str]:
    """Tesseract's model folder and the languages of LANGUAGES found in it ("eng+jpn"), or ("", "") if none."""
    import pymupdf

    try:
        folder = pymupdf.get_tessdata()
    except (RuntimeError, OSError, ValueError):
        return "", ""
    found = [language for language in LANGUAGES if folder and (Path(folder) / f"{language}.traineddata").is_file()]
    return (folder, "+".join(found)) if found else ("", "")
