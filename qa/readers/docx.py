"""Word files (.docx, python-docx): headings from their styles, numbered and bulleted items, tables as rows,
footnotes at the end, and the title, author and date of the file's core properties. Running headers and footers
are not part of the text."""

from __future__ import annotations

import io
import re
import zipfile

from qa.errors import UnreadableDocument
from qa.readers.blocks import CELL_SEPARATOR, Composer, Reading, join_lines, list_marker
from qa.readers.zipped import check_zip

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HEADING_STYLE = re.compile(r"(?i)^(?:heading \d|title|subtitle)$")
LIST_STYLE = re.compile(r"(?i)^list")


def read_docx(data: bytes, name: str) -> Reading:
    """The body of a Word file in order (paragraphs and tables), then its footnotes, with its core properties.

    Raises:
        UnreadableDocument: the file is not a Word document, or a damaged one.
    """
    check_zip(data, name, "word/document.xml", "a Word document")
    import docx  # python-docx; imported here: only Word files need it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        composer = Composer()
        counters: dict[tuple[str, int], int] = {}
        for element in document.element.body.iterchildren():
            if element.tag == f"{W}p":
                _paragraph(docx.text.paragraph.Paragraph(element, document), composer, counters)
            elif element.tag == f"{W}tbl":
                for row in docx.table.Table(element, document).rows:
                    cells = _unique(join_lines(cell.text.splitlines()) for cell in row.cells)
                    composer.add("row", CELL_SEPARATOR.join(cells))
        for note in _footnotes(data):
            composer.add("paragraph", note)
        properties = document.core_properties
        metadata = {"title": properties.title or "", "publisher": properties.author or ""}
        created = properties.created.date().isoformat() if properties.created else ""
    except (PackageNotFoundError, KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile) as error:
        raise UnreadableDocument(f"{name}: the Word file cannot be read ({error})") from None
    return composer.reading({key: value.strip() for key, value in metadata.items() if value.strip()}, created)


def _paragraph(paragraph, composer: Composer, counters: dict[tuple[str, int], int]) -> None:
    text = paragraph.text
    style = paragraph.style.name if paragraph.style is not None else ""
    numbering = paragraph._p.pPr.numPr if paragraph._p.pPr is not None else None
    if HEADING_STYLE.match(style):
        composer.add("heading", text)
    elif numbering is not None or LIST_STYLE.match(style):
        number, rest = list_marker(text)  # a number typed in the text stays; Word's own numbering is counted
        if not number and "Number" in style:
            key = (str(numbering.numId.val) if numbering is not None and numbering.numId is not None else style, 0)
            counters[key] = counters.get(key, 0) + 1
            number = f"{counters[key]}. "
        composer.add("item", number + rest.strip())
    else:
        composer.add("paragraph", text)


def _unique(cells) -> list[str]:
    """A row's cells, a merged cell once (python-docx repeats it for each grid column it spans)."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return out


def _footnotes(data: bytes) -> list[str]:
    """The text of each footnote, numbered as Word numbers them, from word/footnotes.xml."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "word/footnotes.xml" not in archive.namelist():
            return []
        root = etree.fromstring(archive.read("word/footnotes.xml"))
    notes = []
    for note in root.iter(f"{W}footnote"):
        if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        text = " ".join("".join(t.text or "" for t in p.iter(f"{W}t")) for p in note.iter(f"{W}p")).strip()
        if text:
            notes.append(f"[{len(notes) + 1}] {text}")
    return notes
