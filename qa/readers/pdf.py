"""PDF files (PyMuPDF): each page's lines with their boxes and its tables, laid out as a person reads them
(qa.readers.layout); a page with no text layer is read by OCR (qa.readers.ocr); the title, author and dates the
file states, read leniently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

from qa.errors import UnreadableDocument
from qa.readers import layout, ocr
from qa.readers.blocks import CELL_SEPARATOR, Composer, Reading, join_lines

log = logging.getLogger(__name__)

BOLD = 16  # PyMuPDF's span flag for bold type
EDGE = 4  # points: the shortest line or side that can be a table's ruling
BULLET_SIZE = 8  # points: a filled shape no larger beside a line's start is the list's bullet
PDF_DATE = re.compile(r"(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?")  # "D:20261207225438Z'", "D:2025", however it ends
XMP = {  # what the file's XMP packet says, where its Info dictionary does not
    "title": re.compile(r"<dc:title>.*?<rdf:li[^>]*>([^<]+)</rdf:li>", re.DOTALL),
    "publisher": re.compile(r"<dc:creator>.*?<rdf:li[^>]*>([^<]+)</rdf:li>", re.DOTALL),
    "created": re.compile(r"<xmp:CreateDate>([^<]+)</xmp:CreateDate>|xmp:CreateDate=\"([^\"]+)\""),
}
NOT_A_TITLE = re.compile(r"(?i)^(?:microsoft \w+ - )?.*\.(?:docx?|pptx?|odt|odp|pdf|txt|html?)$|^untitled\b|^\s*$")
# Errors a broken file makes the parser raise: MuPDF's own are RuntimeErrors (FileDataError among them)
PARSE_ERRORS = (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, MemoryError)


def read_pdf(data: bytes, name: str) -> Reading:
    """The text of a PDF as headings, paragraphs, items and table rows, page by page, with its metadata.

    Raises:
        UnreadableDocument: the file cannot be parsed, needs a password, or holds no text that can be read.
    """
    import pymupdf  # imported here: only PDFs need it

    pymupdf.no_recommend_layout()  # its advice to install another package is printed on stdout, into our output
    try:
        document = pymupdf.open(stream=data, filetype="pdf")
    except PARSE_ERRORS as error:
        raise UnreadableDocument(f"{name}: the PDF cannot be parsed ({error})") from None
    with document:
        if document.needs_pass and not document.authenticate(""):
            raise UnreadableDocument(f"{name}: the PDF is encrypted with a password; save a copy without one")
        try:
            pages = [_page(page, name) for page in document]
            metadata, created = _metadata(document)
        except PARSE_ERRORS as error:
            raise UnreadableDocument(f"{name}: the PDF cannot be parsed ({error})") from None
    composer = Composer()
    layout.compose(pages, composer)
    return composer.reading(metadata, created, paged=True)


def _page(page, name: str) -> layout.Page:
    number = page.number + 1
    drawings = page.get_drawings()
    tables = _tables(page, number, drawings)
    lines = _bulleted([line for line in _lines(page.get_text("dict"), number) if not _inside(line, tables)], drawings)
    if not lines and not tables and page.get_images():
        read = [layout.Line(number, *line["bbox"], line["text"], line["size"], ocr=True, paragraph=line["paragraph"])
                for line in ocr.read_page(page, number, name)]
        return layout.Page(number, page.rect.width, page.rect.height, tuple(read), ordered=True)
    return layout.Page(number, page.rect.width, page.rect.height, tuple(lines + tables))


def _lines(content: dict, number: int) -> list[layout.Line]:
    """The horizontal lines of PyMuPDF's text dictionary, each with its size (the one most of it is set in) and
    whether it is all bold."""
    lines = []
    for block in content.get("blocks", ()):
        for line in block.get("lines", ()):
            spans = [span for span in line["spans"] if span["text"].strip()]
            if not spans or abs(line["dir"][1]) > 0.1:  # blank, or set vertically or at an angle (a stamp)
                continue
            main = max(spans, key=lambda span: len(span["text"]))
            bold = all(span["flags"] & BOLD or "bold" in span["font"].lower() for span in spans)
            x0, y0, x1, y1 = line["bbox"]
            text = "".join(span["text"] for span in line["spans"])
            lines.append(layout.Line(number, x0, y0, x1, y1, text, main["size"], bold))
    return lines


def _tables(page, number: int, drawings: list[dict]) -> list[layout.Line]:
    """The rows of the page's ruled tables, each a Line whose cells are joined: a row is read as one."""
    if not _ruled(drawings):  # find_tables reads every character in Python: only where a grid is
        return []
    rows = []
    for table in page.find_tables().tables:
        for row, cells in zip(table.rows, table.extract()):
            texts = [join_lines((cell or "").splitlines()) for cell in cells]
            if any(texts):
                x0, y0, x1, y1 = row.bbox
                rows.append(layout.Line(number, x0, y0, x1, y1, CELL_SEPARATOR.join(texts), row=True))
    return rows if len({line.y0 for line in rows}) > 1 else []  # one row alone is a box around text, not a table


def _bulleted(lines: list[layout.Line], drawings: list[dict]) -> list[layout.Line]:
    """lines, those a drawn bullet (a small filled shape just left of a line, as browsers print a list's discs)
    stands before marked with "•" as a printed bullet would be."""
    dots = [drawing["rect"] for drawing in drawings
            if drawing.get("fill") is not None and 1 < drawing["rect"].width <= BULLET_SIZE
            and 1 < drawing["rect"].height <= BULLET_SIZE]
    if not dots:
        return lines
    marked = []
    for line in lines:
        middle = (line.y0 + line.y1) / 2
        if any(dot.y0 - 1 <= middle <= dot.y1 + 1 and 0 <= line.x0 - dot.x1 <= 3 * line.size for dot in dots):
            line = dataclasses.replace(line, text="• " + line.text.lstrip())
        marked.append(line)
    return marked


def _ruled(drawings: list[dict]) -> bool:
    """Do the page's drawings hold a grid a table could be ruled by: two or more horizontal and vertical edges?"""
    across = down = 0
    for drawing in drawings:
        for item in drawing["items"]:
            if item[0] == "l":  # a line; one shorter than EDGE is a dot, or a zero-length stroke of a path
                width, height = abs(item[2].x - item[1].x), abs(item[2].y - item[1].y)
            elif item[0] in ("re", "qu"):  # a rectangle: a cell's box, or a rule drawn as a thin bar
                box = item[1] if item[0] == "re" else item[1].rect
                across, down = across + 2 * (box.width >= EDGE), down + 2 * (box.height >= EDGE)
                continue
            else:
                continue
            across += width >= EDGE and height < 1
            down += height >= EDGE and width < 1
    return across >= 3 and down >= 2


def _inside(line: layout.Line, tables: list[layout.Line]) -> bool:
    middle_x, middle_y = (line.x0 + line.x1) / 2, (line.y0 + line.y1) / 2
    return any(row.x0 <= middle_x <= row.x1 and row.y0 <= middle_y <= row.y1 for row in tables)


def _metadata(document) -> tuple[dict[str, str], str]:
    """The title and author (as publisher) the file states, and the day it was made; XMP where Info is silent.
    Whatever is malformed is ignored."""
    info = document.metadata or {}
    xmp = document.get_xml_metadata() or ""
    found = {key: _first_group(pattern.search(xmp)) for key, pattern in XMP.items()}
    title = (info.get("title") or "").strip() or found["title"]
    author = (info.get("author") or "").strip() or found["publisher"]
    metadata = {"title": title if not NOT_A_TITLE.match(title) else "", "publisher": author}
    created = _date(info.get("creationDate") or "") or _date(found["created"].replace("-", ""))
    return {key: value for key, value in metadata.items() if value}, created


def _first_group(match: re.Match | None) -> str:
    """The first group a pattern matched, stripped; "" where it did not match."""
    return next((group for group in match.groups() if group), "").strip() if match else ""


def _date(value: str) -> str:
    """YYYY-MM-DD from a PDF date ("D:20261207225438Z'", with or without its time and zone), or "" if none."""
    match = PDF_DATE.match(value.strip())
    if not match:
        return ""
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""
