"""Web pages (.html, .htm): the article without the site around it (trafilatura), as headings, paragraphs, numbered
and bulleted items, table rows and photo captions."""

from __future__ import annotations

import re

from qa.readers.blocks import CELL_SEPARATOR, Composer, Reading
from qa.readers.text import decode

CAPTION = "qa-caption"  # the class a photo's caption is given before extraction, which would drop <figcaption>
# a dateline the extractor may take for page furniture: an element named or classed as a date
DATELINE = "//time | //*[contains(concat(' ', normalize-space(@class), ' '), ' date ')] | //*[@itemprop='datePublished']"
SPACES = re.compile(r"\s+")


def read_html(data: bytes, name: str) -> Reading:
    """The article of a saved web page, with the title, date, publisher and address the page states."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    html = decode(data, name)
    marked = _captions_kept(html)
    extracted = trafilatura.bare_extraction(
        marked, with_metadata=True, include_tables=True, include_images=True, include_comments=False,
        favor_recall=True,
    )
    if extracted is None or extracted.body is None or not (extracted.text or "").strip():
        return Reading(trafilatura.html2txt(html) or "")  # no article found: the page's text, read by its lines
    composer = Composer()
    composer.add("paragraph", _dropped_dateline(marked, extracted.text))
    _compose(extracted.body, composer)
    metadata = {key: value for key, value in (("title", extracted.title), ("date", extracted.date),
                                               ("url", extracted.url), ("publisher", extracted.sitename)) if value}
    return composer.reading(metadata)


def _captions_kept(html: str) -> str:
    """html with each <figcaption> a paragraph of class CAPTION: trafilatura keeps paragraphs, not captions."""
    return re.sub(r"<figcaption\b([^>]*)>", rf'<p class="{CAPTION}"\1>', html, flags=re.IGNORECASE).replace(
        "</figcaption>", "</p>").replace("</FIGCAPTION>", "</p>")


def _compose(body, composer: Composer) -> None:
    for element in body:
        tag = element.tag
        if tag == "head":
            composer.add("heading", _text(element))
        elif tag == "list":
            numbered = element.get("rend") == "ol"
            for number, item in enumerate(element.iter("item"), start=1):
                composer.add("item", f"{number}. {_text(item)}" if numbered else _text(item))
        elif tag == "table":
            for row in element.iter("row"):
                composer.add("row", CELL_SEPARATOR.join(_text(cell) for cell in row.iter("cell")))
        elif tag == "graphic":
            composer.add("caption", element.get("title") or "")
        elif tag == "p" and CAPTION in (element.get("class") or ""):
            composer.add("caption", _text(element))
        else:  # p, quote, and whatever else carries text
            composer.add("paragraph", _text(element))


def _text(element) -> str:
    return SPACES.sub(" ", "".join(element.itertext())).strip()


def _dropped_dateline(html: str, article: str) -> str:
    """The page's dateline ("Published on 1 May 2024") where the extraction dropped it as page furniture, else ""."""
    from lxml import html as lxml_html

    from qa.dates import find_dates

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, TypeError, SyntaxError):
        return ""
    for element in tree.xpath(DATELINE)[:5]:
        candidate = _text(element)
        if 0 < len(candidate) <= 80 and find_dates(candidate) and candidate not in article:
            return candidate
    return ""
