"""Split Documents into Chunks that follow their structure and keep their character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qa.documents import PAGE_BREAK, Document
from qa.text import split_sentences, strip_span

ITEM = re.compile(r"(?:[-*•▪●◦✓]\s+)+(?=\S)|\d{1,3}[.)](?=\s)|\(?[a-zA-Z]\)(?=\s)")  # "**bold**" is no bullet
MARKDOWN_HEADING = re.compile(r"#{1,6}\s")
LISTED = ("item", "row")  # blocks counted one by one under a lead-in: a list's items, a table's rows
# A short line ending so is a sentence or a lead-in, not a heading. A question may be one: "What is DFFT?"
# above a paragraph says what it is about, as in explainers and FAQs.
TERMINAL = ".!:;,\"'”’。！：；、」』）"  # and a Japanese line ending so (a Japanese line has no spaces to count)
CHUNKER_VERSION = 6  # raise when the same file would be cut, or titled and dated (documents.own_title, dateline),
                     # differently: indexes made before are then rebuilt


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut; recorded in the index manifest so a change forces a re-embed."""

    target_chars: int = 280  # a chunk is closed once it reaches this size ...
    max_chars: int = 700  # ... and never grows past this, except for one over-long sentence
    hard_max_chars: int = 1500  # a "sentence" longer than this (a table, a log line) is cut at a space


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: the text at document.text[start:end]."""

    doc_id: str
    start: int
    end: int
    text: str
    context: str  # headings or list lead-in above the passage, not part of its text
    location: str  # where it is, for people: "paragraph 4", "items 2-3", "page 2, paragraph 1"


@dataclass(frozen=True)
class _Block:
    kind: str  # "heading", "paragraph", "lead" (ends with ':' and introduces a list or table), "item", "row" (of a
               # table), or "labels" (short lines)
    start: int
    end: int
    page: int
    number: int = 0  # paragraphs count through their page, items and rows through their list or table
    marked: bool = False  # its kind is what the document's reader found (a Word heading style), not guessed
    ocr: bool = False  # read by OCR from an image of the page


def chunk_document(document: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Cut a document into passages at paragraph, item, heading and page boundaries."""
    text = document.text
    found = _read_blocks(document) if document.blocks else _blocks(text)
    blocks = _numbered([piece for block in _labels(text, found) for piece in _split_long(text, block, settings)])
    multi_page = document.paged or PAGE_BREAK in text
    chunks: list[Chunk] = []
    group: list[_Block] = []
    heading = lead = ""  # the last heading seen, and the lead-in ("... as follows:") of the current list
    context = ""
    title = _one_line(document.title).casefold()

    def close() -> None:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        chunks.append(
            Chunk(
                doc_id=document.doc_id,
                start=start,
                end=end,
                text=text[start:end],
                context=context,
                location=_location(group, multi_page),
            )
        )
        group.clear()

    for block in blocks:
        if group and _starts_chunk(group, block, settings):
            close()
        if not group:
            # what the passage is about, when that is said above it rather than in it
            context = " — ".join(part for part in (heading, lead if block.kind in LISTED else "") if part)
        if block.kind in ("heading", "labels"):
            # keep two levels: a slide's title above its sub-heading, say; of labels, the last is the latest title
            line = _one_line(text[block.start : block.end].rsplit("\n", 1)[-1])
            if line.casefold() != title:  # the document's title heads every passage already (searchable_text)
                heading = f"{heading.split(' — ')[-1]} — {line}" if heading else line
            lead = ""
        elif block.kind == "lead":
            lead = _one_line(text[block.start : block.end])
        elif block.kind == "paragraph":
            lead = ""
        group.append(block)
    close()
    return chunks


def _starts_chunk(group: list[_Block], block: _Block, settings: ChunkSettings) -> bool:
    """Should block begin a new chunk rather than join the group before it?"""
    if block.page != group[-1].page:
        return True
    if all(b.kind in ("heading", "lead") for b in group):
        # headings and a lead-in ("... she said:") stay with what follows them: alone they answer nothing
        return block.end - group[0].start > settings.hard_max_chars
    if block.end - group[0].start > settings.max_chars:
        return True
    if block.kind in ("heading", "lead") or group[-1].end - group[0].start >= settings.target_chars:
        return True  # a list's lead-in opens a chunk, as a heading does: it belongs with its items
    # a list is kept apart from the paragraphs around it, but stays with its lead-in
    return (block.kind in LISTED) != (group[-1].kind in (*LISTED, "lead"))


def _read_blocks(document: Document) -> list[_Block]:
    """The blocks a document's reader found, in the chunker's kinds. A heading it found (a Word heading style, a
    slide's title, larger type) is one; its paragraphs are read as plain text's are (a short line standing alone
    heads what follows, one ending with ':' leads it in), since many documents set headings as plain paragraphs.
    A caption is a paragraph of its own, and a table's first row, its header, leads the rows below it."""
    blocks: list[_Block] = []
    for before, block in zip((None, *document.blocks), document.blocks):
        if block.kind in ("paragraph", "caption"):
            found = _classify(document.text, block.start, block.end, False, block.page)
        elif block.kind == "row" and (before is None or before.kind != "row" or before.page != block.page):
            found = _Block("lead", block.start, block.end, block.page)
        else:
            found = _Block(block.kind, block.start, block.end, block.page, marked=block.kind == "heading")
        blocks.append(replace(found, ocr=block.ocr))
    return blocks


def _blocks(text: str) -> list[_Block]:
    """Paragraphs, list items and headings with their offsets; wrapped lines are joined."""
    blocks: list[_Block] = []
    current: list[int] | None = None  # [start, end, is_item]
    page = 1

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(_classify(text, current[0], current[1], bool(current[2]), page))
        current = None

    # a form feed ends a page wherever it stands, even inside a line
    for line in re.finditer(r"[^\n\f]*|\f", text):
        if line.group() == PAGE_BREAK:
            flush()
            page += 1
            continue
        start, end = strip_span(text, line.start(), line.end())
        if start == end:
            flush()
            continue
        content = text[start:end]
        is_item = ITEM.match(content) is not None
        is_heading_line = MARKDOWN_HEADING.match(content) is not None
        if current and not is_item and not is_heading_line and _continues(text[current[0] : current[1]], content):
            current[1] = end
            continue
        flush()
        current = [start, end, is_item]
    flush()
    return blocks


def _labels(text: str, blocks: list[_Block]) -> list[_Block]:
    """In a run of short heading-like lines, only the last one heads the text that follows.

    The lines before it (logos, captions, a slide's title and date, table cells) are read together
    as one paragraph of labels, so they stay with their slide instead of becoming a long heading trail.
    Markdown "#" headings are always headings.
    """
    out: list[_Block] = []
    run: list[_Block] = []

    def flush(followed_by_body: bool) -> None:
        labels = run[:-1] if followed_by_body else run
        if len(labels) > 1:
            out.append(_Block("labels", labels[0].start, labels[-1].end, labels[0].page,
                              ocr=any(label.ocr for label in labels)))
        else:
            out.extend(labels)
        if followed_by_body:
            out.append(run[-1])
        run.clear()

    for block in blocks:
        plain_heading = (block.kind == "heading" and not block.marked
                         and not MARKDOWN_HEADING.match(text[block.start : block.end]))
        if run and (not plain_heading or block.page != run[-1].page):
            flush(followed_by_body=block.page == run[-1].page and block.kind != "heading")
        if plain_heading:
            run.append(block)
        else:
            out.append(block)
    if run:
        flush(followed_by_body=False)
    return out


def _continues(previous: str, line: str) -> bool:
    """Is line the wrapped continuation of previous (same paragraph), rather than a new one?"""
    last_line = previous.rsplit("\n", 1)[-1]
    if MARKDOWN_HEADING.match(last_line) or last_line.rstrip("*_ ").endswith(tuple(".!?:;")):
        return False
    return line[0].islower() or len(last_line) > 60


def _classify(text: str, start: int, end: int, is_item: bool, page: int) -> _Block:
    content = text[start:end]
    if is_item:
        return _Block("item", start, end, page)
    plain = content.strip("#*_ ")
    if MARKDOWN_HEADING.match(content) or (
        "\n" not in content and len(plain) <= 100 and len(plain.split()) <= 14 and not plain.endswith(tuple(TERMINAL))
    ):
        return _Block("heading", start, end, page)
    if content.rstrip("*_ ").endswith(":"):
        return _Block("lead", start, end, page)
    return _Block("paragraph", start, end, page)


def _split_long(text: str, block: _Block, settings: ChunkSettings) -> list[_Block]:
    """Cut a block longer than max_chars between sentences (or, for a huge sentence, at spaces)."""
    if block.end - block.start <= settings.max_chars:
        return [block]
    pieces: list[_Block] = []
    piece_start = block.start
    spans = [(block.start + s, block.start + e) for s, e in split_sentences(text[block.start : block.end])]
    for s, e in (part for span in spans for part in _cut_huge(text, span, settings.hard_max_chars)):
        if e - piece_start > settings.max_chars and s > piece_start:
            pieces.append(replace(block, start=piece_start, end=strip_span(text, piece_start, s)[1]))
            piece_start = s
    pieces.append(replace(block, start=piece_start))
    return pieces


def _cut_huge(text: str, span: tuple[int, int], limit: int) -> list[tuple[int, int]]:
    start, end = span
    parts = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        parts.append((start, cut))
        start = strip_span(text, cut, end)[0]
    parts.append((start, end))
    return parts


def _numbered(blocks: list[_Block]) -> list[_Block]:
    numbered, paragraph, item, page = [], 0, 0, 0
    for block in blocks:
        if block.page != page:
            page, paragraph, item = block.page, 0, 0
        if block.kind in LISTED:
            item += 1
        else:
            paragraph, item = paragraph + 1, 0
        numbered.append(replace(block, number=item or paragraph))
    return numbered


def _location(group: list[_Block], multi_page: bool) -> str:
    items = [block for block in group if block.kind in LISTED]
    body = items or [block for block in group if block.kind != "heading"] or group
    first, last = body[0].number, body[-1].number
    noun = "paragraph" if not items else "row" if items[0].kind == "row" else "item"
    where = f"{noun} {first}" if first == last else f"{noun}s {first}-{last}"
    where = f"page {group[0].page}, {where}" if multi_page else where
    return f"{where} (OCR)" if any(block.ocr for block in group) else where


def _one_line(text: str) -> str:
    return " ".join(text.strip("#*_ \n").split())[:200]


def searchable_text(chunk: Chunk, document: Document) -> str:
    """What is embedded and keyword-indexed for a chunk: its text with the context it lives in.

    A bullet "Semiconductors: ..." says nothing of which council agreed it; the document's title,
    date and the heading above the bullet do. They count for retrieval but are not shown as the passage.
    """
    header = " — ".join(part for part in (document.title, document.date, chunk.context) if part)
    return f"{header}\n{chunk.text}"


def sentence_in_context(sentence: str, chunk: Chunk, document: Document) -> str:
    """A sentence as it is embedded a second time: after its document's title and the heading above it.

    "The fourth council is planned for 2026 in Brussels." says nothing of which partnership; under
    "Third Digital Partnership Council — Next Steps" it does. Scored against the question beside the
    sentence alone and the title alone (retrieve.fuse), so what the sentence adds to its title counts.
    """
    header = " — ".join(part for part in (document.title, chunk.context) if part)
    return f"{header.rstrip(': ')}: {sentence}" if header else sentence
