"""Printed pages read as a person reads them: lines with their boxes -> blocks, in reading order.

The paragraphs are rebuilt from the page's geometry (the spacing between lines, indentation, columns), not one per
printed line; running headers, footers and page numbers (lines that repeat at the same place on most pages) are
left out; words hyphenated at a line's end are joined (blocks.join_lines). Used for PDFs, whether their text comes
from the file or from OCR.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from qa.readers.blocks import BULLET, CJK_START, NUMBERED, Composer, join_lines, list_marker, vocabulary

MARGIN = 0.12  # running headers and footers sit in the top and bottom 12% of the page ...
RUNNING_SHARE = 0.5  # ... and repeat, at the same height, on at least half of the pages (and on two or more)
SAME_HEIGHT = 0.015  # of the page's height: what a scan's skew moves a line by
PAGE_NUMBER = re.compile(
    r"(?:page|p\.|seite|ページ)?\s*[-–—(]?\s*\d{1,4}\s*[-–—)]?\s*(?:(?:of|/|von|／)\s*\d{1,4})?\s*(?:ページ|頁)?",
    re.IGNORECASE,
)
# a sentence's end: its stop, and the quotes or brackets that close after it ("... in 2026.)", "…した。」")
SENTENCE_END = re.compile(r"[.!?:;。！？：；][\"'”’)）」』\]]*\s*$")
BARE_NUMBER = re.compile(r"\d{1,3}")  # a list's number, printed apart from its item without a full stop
JUSTIFIED = 0.5  # the share of a column's lines ending at its edge from which it is set justified
PARAGRAPH_GAP = 1.3  # a line further below the one before than this times the usual spacing starts a paragraph
HEADING_SIZE = 1.12  # text this much larger than the body's is a heading ...
MAX_HEADING_WORDS = 20  # ... when it is this short


@dataclass(frozen=True)
class Line:
    """A printed line, or a table row whose cells are already joined, with its box in points (y down)."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float = 10.0
    bold: bool = False
    row: bool = False  # a table's row: a block of its own, never joined to the lines around it
    ocr: bool = False
    paragraph: tuple[int, int] | None = None  # the paragraph OCR found it in, which stands for the geometry's reading


@dataclass(frozen=True)
class Edge:
    """Where a column's lines end, and whether they are justified (most end there)."""

    right: float
    justified: bool


@dataclass(frozen=True)
class Page:
    """A page's lines and its size."""

    number: int
    width: float
    height: float
    lines: tuple[Line, ...]
    ordered: bool = False  # the lines are in reading order already (OCR reads a page's columns in turn)


def compose(pages: list[Page], composer: Composer) -> None:
    """Write the pages' text into composer as headings, paragraphs, items and table rows, page by page."""
    body = _body_size([line for page in pages for line in page.lines])
    running = _running_lines(pages, body)
    kept = [[line for line in page.lines if not _running(line, page, running) and not _page_number(line, page)]
            for page in pages]
    ordered = [lines if page.ordered else _reading_order(lines, page.width) for page, lines in zip(pages, kept)]
    known = vocabulary([line.text for lines in ordered for line in lines])
    spacing = _line_spacing([line for lines in ordered for line in lines])
    groups = [_paragraphs(lines, spacing, page.width) for page, lines in zip(pages, ordered)]
    for index, page_groups in enumerate(groups):
        if index:
            composer.new_page()
        if page_groups and index + 1 < len(groups) and groups[index + 1] and _carries_on(page_groups[-1],
                                                                                           groups[index + 1][0]):
            page_groups[-1] += groups[index + 1].pop(0)  # a paragraph that runs on to the next page, read whole
        for group in page_groups:
            _add(group, composer, body, known)


def _key(line: Line, page: Page) -> str | None:
    """What a line in a page's margin says, digits aside ("Page 2 of 3" is "page # of #"); None for other lines."""
    if line.y1 > page.height * MARGIN and line.y0 < page.height * (1 - MARGIN):
        return None
    return re.sub(r"\d+", "#", " ".join(line.text.casefold().split()))


def _running_lines(pages: list[Page], body: float) -> dict[str, float]:
    """The margin lines that repeat at the same height on most pages, running headers and footers: {what they
    say: how far down the page}. They are set no larger than the text (a slide's title, repeated on the slides that
    continue it, is larger); "the same height" allows for a scan's skew."""
    if len(pages) < 2:
        return {}
    heights: dict[str, dict[int, float]] = {}
    for page in pages:
        for line in page.lines:
            if line.size <= body * 1.05 and (key := _key(line, page)) is not None:
                heights.setdefault(key, {}).setdefault(page.number, line.y0 / page.height)
    needed = max(2, RUNNING_SHARE * len(pages))
    running = {}
    for key, found in heights.items():
        middle = statistics.median(found.values())
        if sum(abs(height - middle) <= SAME_HEIGHT for height in found.values()) >= needed:
            running[key] = middle
    return running


def _running(line: Line, page: Page, running: dict[str, float]) -> bool:
    key = _key(line, page)
    return key in running and abs(line.y0 / page.height - running[key]) <= SAME_HEIGHT


def _page_number(line: Line, page: Page) -> bool:
    return _key(line, page) is not None and PAGE_NUMBER.fullmatch(line.text.strip()) is not None


def _body_size(lines: list[Line]) -> float:
    """The font size most of the text is set in."""
    sizes = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _line_spacing(lines: list[Line]) -> dict[float, float]:
    """The usual distance from one line's top to the next one's, per font size: wider means a new paragraph."""
    steps: dict[float, list[float]] = {}
    for before, line in itertools.pairwise(lines):
        step = line.y0 - before.y0
        if before.page == line.page and not before.row and abs(line.size - before.size) < 0.5 and 0 < step < 3 * line.size:
            steps.setdefault(round(line.size * 2) / 2, []).append(step)
    return {size: statistics.median(found) for size, found in steps.items()}


def _reading_order(lines: list[Line], width: float) -> list[Line]:
    """Lines in the order they are read: top to bottom, and where the page has two columns, the left one first,
    between the lines that span both (a heading across the page, a table)."""
    lines = _printed_rows(lines, width)
    middle = width / 2
    left = [line for line in lines if line.x1 <= middle + 2]
    right = [line for line in lines if line.x0 >= middle - 2]
    if min(len(left), len(right)) < max(3, len(lines) // 5):
        return lines
    ordered: list[Line] = []
    segment: list[Line] = []
    for line in lines:
        if line.x0 < middle - 2 < middle + 2 < line.x1:  # spans the gutter: ends the columns above it
            ordered += _columns_in_order(segment, middle) + [line]
            segment = []
        else:
            segment.append(line)
    return ordered + _columns_in_order(segment, middle)


def _columns_in_order(lines: list[Line], middle: float) -> list[Line]:
    return [line for line in lines if line.x0 < middle] + [line for line in lines if line.x0 >= middle]


def _printed_rows(lines: list[Line], width: float) -> list[Line]:
    """The pieces PDF writes a line in (a justified line's words, a list's number and its text) joined into one
    line each, top to bottom: pieces are on one line where their middles are at the same height, and belong
    together where the gap between them is a word's space, or wider but on one side of the page's middle."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: (line.y0 + line.y1) / 2):
        middle = (line.y0 + line.y1) / 2
        if rows and not line.row and not rows[-1][0].row and abs(middle - _middle(rows[-1][0])) < line.size / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    joined: list[Line] = []
    for row in rows:
        row.sort(key=lambda line: line.x0)
        joined.append(row[0])
        for line in row[1:]:
            if _same_line(joined[-1], line, width / 2):
                joined[-1] = _joined(joined[-1], line)
            else:
                joined.append(line)
    return joined


def _middle(line: Line) -> float:
    return (line.y0 + line.y1) / 2


def _same_line(before: Line, line: Line, middle: float) -> bool:
    gap = line.x0 - before.x1
    if gap < -line.size or line.row or before.row:
        return False
    if _marker_only(before.text) or BARE_NUMBER.fullmatch(before.text.strip()):
        return gap < 6 * line.size  # a list's marker, set apart from its text by a tab
    return gap < 3 * line.size and not before.x1 < middle < line.x0 or gap < line.size


def _joined(before: Line, line: Line) -> Line:
    marker = before.text.strip()
    if BARE_NUMBER.fullmatch(marker):
        text = f"{marker}. {line.text.strip()}"
    elif line.x0 - before.x1 > 0.15 * line.size or before.text[-1:].isspace() or line.text[:1].isspace():
        text = f"{before.text.rstrip()} {line.text.lstrip()}"  # a word's space between them
    else:
        text = before.text + line.text  # none: a hyphen drawn apart from its word, a word in two spans
    return Line(line.page, before.x0, min(before.y0, line.y0), line.x1, max(before.y1, line.y1), text,
                max(before.size, line.size) if len(marker) > 3 else line.size, before.bold and line.bold,
                ocr=line.ocr or before.ocr)


def _marker_only(text: str) -> bool:
    text = text.strip() + " "
    return bool(BULLET.fullmatch(text) or NUMBERED.fullmatch(text))


def _paragraphs(lines: list[Line], spacing: dict[float, float], width: float) -> list[list[Line]]:
    """Lines grouped into paragraphs, items, headings and rows."""
    # where the text of each column and type size ends on this page (a slide's title box is narrower than its
    # body), and whether it is justified there: most of its lines end at that edge
    ends: dict[tuple[str, float], list[float]] = {}
    for line in lines:
        if not line.row:
            ends.setdefault((_column(line, width), round(line.size)), []).append(line.x1)
    edges = {key: Edge(max(found), sum(x1 > max(found) - 2 for x1 in found) >= JUSTIFIED * len(found))
             for key, found in ends.items()}
    groups: list[list[Line]] = []
    for line in lines:
        before = groups[-1][-1] if groups else None
        if before and _continues(groups[-1], line, spacing,
                                 edges.get((_column(before, width), round(before.size)), Edge(before.x1, False))):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _column(line: Line, width: float) -> str:
    return "left" if line.x1 <= width / 2 + 2 else "right" if line.x0 >= width / 2 - 2 else "across"


def _continues(group: list[Line], line: Line, spacing: dict[float, float], edge: Edge) -> bool:
    """Is line the next line of the paragraph (or item) group, rather than the start of a new block?"""
    before = group[-1]
    if line.row or before.row or _starts_item(line.text):
        return False
    if line.paragraph is not None and before.paragraph is not None:  # a sentence may run on into the next column
        return line.paragraph == before.paragraph or _carries_on(group, [line])
    ended = SENTENCE_END.search(before.text) is not None
    # the line before was broken by its writer, not the typesetter: the next line's first word would have fitted
    # on it, or, in justified text, it ends well short of the edge after a sentence
    broken = _would_fit(line, edge.right - before.x1) or (
        ended and edge.justified and before.x1 < edge.right - 4 * line.size)
    if abs(line.size - before.size) > 0.6 or (line.bold != before.bold and (ended or broken)):
        return False  # a heading and the text under it (a bold phrase inside a paragraph is no heading)
    step = line.y0 - before.y0
    usual = spacing.get(round(line.size * 2) / 2, 1.2 * line.size)
    if step <= 0 and line.x0 > before.x1:
        return _carries_on(group, [line])  # the top of the next column
    if step <= 0 or step > PARAGRAPH_GAP * usual:
        return False  # a wider gap, a new column, or a line beside this one rather than below it
    if line.x0 > before.x0 + line.size and not (len(group) == 1 and _starts_item(before.text)):
        return False  # indented: a new paragraph's first line (a list item's own text is indented under its marker)
    if line.x1 < before.x0 or line.x0 > before.x1:
        return False  # not under it at all
    return not broken  # a paragraph's last line


def _would_fit(line: Line, room: float) -> bool:
    """Would line's first word (a Chinese or Japanese character, for text without spaces) and a space before it
    have fitted in room, at the width line's characters are set in?"""
    text = line.text.strip()
    if not text:
        return False
    first = text[0] if CJK_START.match(text) else text.split(" ", 1)[0]
    width = (line.x1 - line.x0) / len(line.text)
    # a space, and a quarter to spare: the width is the line's average, and a word of capitals and m's is wider
    return room > (len(first) + 1) * width * 1.25


def _carries_on(group: list[Line], following: list[Line]) -> bool:
    """Does the text of following (a group at the top of a column or page) carry on the sentence group breaks
    off at the bottom of the one before?"""
    before, line = group[-1], following[0]
    return (not before.row and not line.row and abs(line.size - before.size) <= 0.6
            and not SENTENCE_END.search(before.text) and line.text.lstrip()[:1].islower())


def _starts_item(text: str) -> bool:
    return bool(BULLET.match(text) or NUMBERED.match(text))


def _add(group: list[Line], composer: Composer, body: float, known: frozenset[str]) -> None:
    ocr = any(line.ocr for line in group)
    if group[0].row:
        composer.add("row", group[0].text, ocr=ocr)
        return
    text = join_lines([line.text for line in group], known)
    if _starts_item(group[0].text):
        number, rest = list_marker(text)
        composer.add("item", number + rest.strip(), ocr=ocr)
        return
    size = max(line.size for line in group)
    short = len(text.split()) <= MAX_HEADING_WORDS and not text.rstrip().endswith(".")
    larger = size >= body * HEADING_SIZE
    bold = all(line.bold for line in group) and not any(
        not line.bold and abs(line.size - size) < 0.5 for line in group)
    composer.add("heading" if short and (larger or bold) else "paragraph", text, ocr=ocr)
