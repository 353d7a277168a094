"""What every reader makes of a file: typed blocks with exact offsets into one text, and the lines they are made of.

Each reader turns its format into Blocks through a Composer, so chunking, citations and highlighting work the same
for a PDF, a Word file, a slide deck or a web page. The text the Composer writes follows the conventions the
chunker also reads in plain text: a blank line between blocks, a form feed between pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.text import english

PAGE_BREAK = "\f"  # PDF pages and slides are separated by a form feed in Document.text
KINDS = ("heading", "paragraph", "item", "row", "caption")
CELL_SEPARATOR = " | "  # a table row's cells, kept together on one line
# Letters of Chinese and Japanese, and their full-width punctuation: between them and Latin letters or digits, the
# spaces a PDF's layout puts ("令和 5 年 7 月 3 日") are not words' spaces
CJK = r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_SPACE = re.compile(rf"(?<=[{CJK}])[ \t\u00a0]+(?=\S)|(?<=\S)[ \t\u00a0]+(?=[{CJK}])")
CJK_END = re.compile(rf"[{CJK}]$")
CJK_START = re.compile(rf"^[{CJK}]")
CJK_ANY = re.compile(rf"[{CJK}]")
# a word broken at a line's end: "Brus-" + "sels", "Vice-Presi-" + "dent"; the part before is letters only
BROKEN = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-$")
CONTINUED = re.compile(r"^([^\W\d_]+)")
WORD_END = re.compile(r"[^\W\d_]+$")
# a bullet: Word's Symbol and Wingdings bullets are private-use glyphs (\uf0b7, \uf0a7, \uf0fc ...); a dash or
# star only with a space after it ("-3%" is a number)
BULLET = re.compile(r"^\s*(?:[\u2022\u2023\u2043\u2219\u00b7\u25a0-\u25ff\u2713\u2714\u27a2\u25ba\u2756\u30fb\uf000-\uf0ff]\s*"
                    r"|[-*\u2013\u2014]\s+)")
NUMBERED = re.compile(r"^\s*(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]\s+|^\s*[(（]\d{1,3}[)）]\s*|^\s*[①-⑳]\s*")


@dataclass(frozen=True)
class Block:
    """A heading, paragraph, list item, table row or caption: the text at Document.text[start:end]."""

    kind: str  # one of KINDS
    start: int
    end: int
    page: int = 1  # counted from 1; a slide is a page
    ocr: bool = False  # read from an image of the page, not from its text


@dataclass(frozen=True)
class Reading:
    """A file as its reader found it: the text, its blocks (none for plain text: the chunker reads its lines),
    the metadata the file states (title, publisher, date, url, language), and the date the file itself was made,
    which only counts where neither the metadata nor a dateline in the text says when the document is from."""

    text: str
    blocks: tuple[Block, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    created: str = ""  # YYYY-MM-DD
    paged: bool = False  # laid out in pages (a PDF, a deck), which its citations name even when there is one


class Composer:
    """Writes blocks one after another into one text, noting where each lands."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._page = 1
        self._page_started = True  # nothing written on this page yet: no separator needed
        self.blocks: list[Block] = []

    def add(self, kind: str, text: str, *, ocr: bool = False) -> None:
        """Append a block; its text is written on one line unless it has line breaks of its own."""
        text = text.strip()
        if not text:
            return
        if self._parts:
            self._write("\n" if self._page_started else "\n\n")
        self._page_started = False
        start = self._length
        self._write(text)
        self.blocks.append(Block(kind, start, self._length, self._page, ocr))

    def new_page(self) -> None:
        """End the page: the next block is on the next one (an empty page still counts)."""
        if self._parts:
            self._write(f"\n{PAGE_BREAK}")
        self._page += 1
        self._page_started = True

    def reading(self, metadata: dict[str, str] | None = None, created: str = "", *, paged: bool = False) -> Reading:
        return Reading("".join(self._parts), tuple(self.blocks), metadata or {}, created, paged)

    def _write(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)


def join_lines(lines: list[str], known: frozenset[str] = frozenset()) -> str:
    """The lines of one paragraph as one line of text, as a person reads them.

    A word hyphenated at a line's end is joined where the joined word is a word (English's word list, or known:
    the document's own words, for names such as "Brussels"), and keeps its hyphen where it is not ("high-" +
    "level"); Chinese and Japanese lines join without a space, and the spaces layout puts between their
    characters and Latin letters or digits go.
    """
    text = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if not text:
            text = line
        elif (broken := BROKEN.search(text)) and (rest := CONTINUED.match(line)):
            whole = rest.group(1)[0].islower() and _known((broken.group(1) + rest.group(1)).lower(), known)
            text = text[:-1] + line if whole else text + line  # else a compound: "high-level", "EU-Japan"
        elif CJK_END.search(text) or CJK_START.match(line):
            text += line
        elif _broken_without_hyphen(text, line, known):
            text += line  # a narrow table cell wraps inside a word: "Japa" + "n"
        else:
            text += " " + line
    return CJK_SPACE.sub("", text) if CJK_ANY.search(text) else text


def _broken_without_hyphen(text: str, line: str, known: frozenset[str]) -> bool:
    """Are the last word of text and the first of line no words, but one word together?"""
    head, tail = WORD_END.search(text), CONTINUED.match(line)
    if not head or not tail:
        return False
    before, after = head.group().lower(), tail.group(1).lower()
    return not _known(before, known) and not _known(after, known) and _known(before + after, known)


def _known(word: str, known: frozenset[str]) -> bool:
    return word in known or word in english.known_words()


def vocabulary(texts: list[str]) -> frozenset[str]:
    """The words that stand whole in texts, lower-cased: what a line-end hyphen may join into besides English's."""
    return frozenset(word.lower() for text in texts for word in re.findall(r"[^\W\d_]{3,}", text))


def list_marker(text: str) -> tuple[str, str]:
    """("1. ", "rest") for a numbered item, ("", "rest") for a bulleted one, ("", text) for no item at all.
    A number stays in the text: "3." is how the text refers to the item; a bullet glyph is layout."""
    if numbered := NUMBERED.match(text):
        return numbered.group().strip() + " ", text[numbered.end():]
    if bullet := BULLET.match(text):
        return "", text[bullet.end():]
    return "", text
