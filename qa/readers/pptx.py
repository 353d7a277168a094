"""PowerPoint decks (.pptx, python-pptx): a slide is a page, its title a heading, the points of its text boxes
items, its tables rows, and its speaker notes a paragraph at its end; the title, author and date of the file's
core properties."""

from __future__ import annotations

import io
import zipfile

from qa.errors import UnreadableDocument
from qa.readers.blocks import CELL_SEPARATOR, Composer, Reading, join_lines, list_marker
from qa.readers.zipped import check_zip

NOTES = "Speaker notes: "  # what a slide's notes are introduced by, so a quote from them says where it is from


def read_pptx(data: bytes, name: str) -> Reading:
    """The slides of a deck in order, each a page, with its core properties.

    Raises:
        UnreadableDocument: the file is not a PowerPoint deck, or a damaged one.
    """
    check_zip(data, name, "ppt/presentation.xml", "a PowerPoint deck")
    import pptx  # python-pptx; imported here: only decks need it
    from pptx.exc import PackageNotFoundError

    try:
        deck = pptx.Presentation(io.BytesIO(data))
        composer = Composer()
        for number, slide in enumerate(deck.slides):
            if number:
                composer.new_page()
            _slide(slide, composer)
        properties = deck.core_properties
        metadata = {"title": properties.title or "", "publisher": properties.author or ""}
        created = properties.created.date().isoformat() if properties.created else ""
    except (PackageNotFoundError, KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile) as error:
        raise UnreadableDocument(f"{name}: the PowerPoint file cannot be read ({error})") from None
    metadata = {key: value.strip() for key, value in metadata.items() if value.strip()}
    return composer.reading(metadata, created, paged=True)


def _slide(slide, composer: Composer) -> None:
    title = slide.shapes.title
    if title is not None and title.has_text_frame:
        composer.add("heading", join_lines(title.text_frame.text.splitlines()))
    for shape in sorted(_shapes(slide.shapes), key=lambda shape: (shape.top or 0, shape.left or 0)):
        if shape == title:
            continue
        if shape.has_table:
            for row in shape.table.rows:
                composer.add("row", CELL_SEPARATOR.join(join_lines(cell.text.splitlines()) for cell in row.cells))
        elif shape.has_text_frame:
            _text_frame(shape, composer)
    if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame) is not None:
        text = join_lines(notes.text.splitlines())
        if text:
            composer.add("paragraph", NOTES + text)


def _shapes(shapes):
    """Every shape of a slide with text or a table, those inside groups too."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        elif getattr(shape, "has_table", False) or getattr(shape, "has_text_frame", False):
            yield shape


def _text_frame(shape, composer: Composer) -> None:
    """A text box's paragraphs: in a body placeholder each is a point (an item); in a plain text box, a
    paragraph unless it starts with a bullet or a number."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    kind = shape.placeholder_format.type if shape.is_placeholder else None
    if kind in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.HEADER):
        return  # the deck's running text, the same on every slide
    points = kind in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.VERTICAL_BODY)
    for paragraph in shape.text_frame.paragraphs:
        text = "".join(run.text for run in paragraph.runs).strip() or paragraph.text.strip()
        if not text:
            continue
        number, rest = list_marker(text)
        if points or number or rest != text:
            composer.add("item", number + rest.strip())
        else:
            composer.add("paragraph", text)
