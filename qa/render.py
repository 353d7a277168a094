"""Answers, sources and whole documents as HTML for the web chat.

Every piece of document or user text goes through html.escape: markup in a document or a question is
shown as text, never run. Links to originals are only ever http(s).
"""

from __future__ import annotations

import re
from html import escape
from itertools import pairwise
from urllib.parse import urlencode

from qa.answer import Answer
from qa.text import split_sentences
from qa.documents import Document
from qa.retrieve import Passage

DOCUMENT_PAGE = "document"  # the app's page that shows a whole document with a passage highlighted


def answer_block(answer: Answer) -> str:
    """The short answer (or why there is none, or the reply to small talk), with how the question was
    understood (typos corrected, the question it follows on from) and the notice if any."""
    if answer.small_talk:
        return "".join(f"<p>{escape(line)}</p>" for line in answer.text.splitlines() if line.strip())
    if answer.abstained:
        text = f"<p><strong>{escape(answer.text)}</strong><br>You asked: “{fold(escape(answer.question))}”</p>"
        if answer.closest:  # shown unmarked: a highlighted sentence would look like an answer
            text += "\n<h4>Closest passages (low confidence)</h4>"
    else:
        text = f"<p>{fold(escape(plain(answer.text)))}</p>\n<h4>Sources</h4>"
    if answer.notice:
        text = f"<p>ℹ️ {escape(answer.notice)}</p>\n{text}"
    if understood := understanding(answer):
        text = f'<p class="understood"><em>{fold(escape(understood))}</em></p>\n{text}'
    return text


def understanding(answer: Answer) -> str:
    """How the question was read, when not simply as typed: "Showing results for: …", "Following on from: …"."""
    lines = [f"{label}: {value}" for label, value in (("Showing results for", answer.corrected),
                                                       ("Following on from", answer.follows)) if value]
    return " · ".join(lines)


def error_block(error: Exception) -> str:
    """A one-line message for a question that cannot be answered as asked (empty, a bad filter, ...)."""
    return f"<p>⚠️ {escape(str(error))}</p>"


def source_block(number: int, passage: Passage, *, mark: bool = True) -> str:
    """One numbered source: title linked to the original, publisher, date and place in the document; the
    answering sentences highlighted with a sentence of context either side; a link that opens the whole
    document at this passage; and a button that copies the quote with its citation."""
    title = escape(passage.title or passage.doc_id)
    if passage.url.startswith(("https://", "http://")):  # never a javascript: link from a document's metadata
        title = f'<a href="{escape(passage.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    about = ", ".join(escape(part) for part in (passage.publisher, passage.date, passage.location) if part)
    start, end = passage.highlight if mark else (0, 0)
    before, after = _context(passage.text, start, end)
    quote = f"<mark>{escape(plain(passage.text[start:end]))}</mark>" if mark else ""
    excerpt = f"{escape(plain(before))}{quote}{escape(plain(after))}" if mark else escape(plain(passage.text))
    link = f"{DOCUMENT_PAGE}?" + urlencode({"doc": passage.doc_id, "start": passage.start, "end": passage.end,
                                            "mark_start": passage.start + start, "mark_end": passage.start + end})
    return "\n".join([
        f'<div class="source"><p><strong>[{number}]</strong> {title} — {about}</p>',
        f"<blockquote>{fold(excerpt)}</blockquote>",
        f'<p class="source-actions"><a href="{escape(link)}" target="_blank" rel="noopener">Open in document</a>'
        ' · <button type="button" class="copy-quote">Copy quote with citation</button></p>',
        f'<span class="copy-text">{escape(quotation(passage))}</span></div>',
    ])


def answer_html(answer: Answer) -> str:
    """The whole reply as one HTML string: the answer, then every source (what the /ask API returns)."""
    passages = answer.passages or answer.closest
    blocks = [answer_block(answer)]
    blocks += [source_block(number, p, mark=not answer.abstained) for number, p in enumerate(passages, 1)]
    return "\n\n".join(blocks)


def quotation(passage: Passage) -> str:
    """The quote and a citation someone can paste: “…” — Title, Publisher, date, location. URL"""
    return f"“{' '.join(plain(passage.quote).split())}” — {passage.citation.replace('“', '').replace('”', '')}"


def document_html(document: Document, start: int, end: int, mark_start: int, mark_end: int) -> str:
    """The whole document, the passage start:end set apart and its answering sentences mark_start:mark_end marked."""
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    mark_start, mark_end = max(start, min(mark_start, end)), max(start, min(mark_end, end))
    title = escape(document.title)
    if document.url.startswith(("https://", "http://")):
        title = f'<a href="{escape(document.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    about = ", ".join(escape(part) for part in (document.publisher, document.date, document.doc_id) if part)
    cuts = (0, start, mark_start, mark_end, end, len(text))
    before, lead, marked, trail, after = (escape(plain(text[a:b])) for a, b in pairwise(cuts))
    body = f'{before}<span id="passage" class="passage">{lead}<mark>{marked}</mark>{trail}</span>{after}'
    return f'<h2>{title}</h2>\n<p>{about}</p>\n<div class="document-text">{body}</div>'


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """The sentence before start and the sentence after end, within text (with … where text goes on)."""
    spans = split_sentences(text)
    before = [s for s, e in spans if e <= start]
    after = [e for s, e in spans if s >= end]
    head = before[-1] if before else 0
    tail = after[0] if after else len(text)
    return ("… " if head > 0 else "") + text[head:start], text[end:tail] + (" …" if tail < len(text) else "")


def plain(text: str) -> str:
    """Document text as it is shown to people: without Markdown's "**" emphasis markers.

    Captured pages and slides keep them, often unbalanced ("… cooperation in research and innovation**"),
    and in the chat, the document view and the terminal they would show as stray asterisks. Only what is
    shown changes: passages, their offsets and the JSON output keep the document's own characters.
    """
    return text.replace("**", "")


def fold(html: str) -> str:
    # one line per block: a blank line would end the HTML block and let Markdown reinterpret the rest
    return re.sub(r"\s+", " ", html).strip()
