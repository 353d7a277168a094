"""Chunking: offsets that point back into the document, sentence-respecting cuts, structure-aware grouping."""

from __future__ import annotations

import random

import pytest

from qa.chunks import Chunk, ChunkSettings, chunk_document, searchable_text, sentence_in_context
from qa.text import split_sentences
from qa.documents import Document, read_corpus
from conftest import CORPUS

CORPUS_DOCUMENTS, _ = read_corpus(CORPUS)

WORDS = "partnership council digital japan europe semiconductors quantum research cooperation data".split()


def sentence(rng: random.Random, low: int = 6, high: int = 24) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def long_paragraph(chars: int = 10_000, seed: int = 1) -> str:
    rng = random.Random(seed)
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < chars:
        sentences.append(sentence(rng))
    return " ".join(sentences)


def long_item(number: int) -> str:
    return f"- Item {number} says something fairly long about cooperation on topic {number}, with enough words."


SAMPLES = {
    "paragraphs": "The council met in Tokyo. It was the third meeting.\n\nA second paragraph follows here. It ends.\n",
    "wrapped-lines": (
        "This paragraph was wrapped by an editor at a fixed width so that each of its lines\n"
        "continues the sentence of the line above it without any blank line in between them.\n\nNext one."
    ),
    "markdown": (
        "# Third Digital Partnership Council\n\n"
        "The EU and Japan held their third council today. Mr. Kono attended.\n\n"
        "## Key outcomes\n\n"
        "The council concluded with the following outcomes:\n"
        "- Semiconductors: research on chips and early warning mechanisms.\n"
        "- Quantum: a joint research call on quantum computing.\n"
        "- Cables: the Arctic connectivity route.\n\n"
        "## Next steps\n\n"
        "The fourth council is planned for 2026 in Brussels.\n"
    ),
    "numbered": "Title line\n\nSome paragraph here. It has two sentences.\n\n1. First numbered.\n2. Second numbered.\n",
    "pages": "Text on page one. It has two sentences.\n\f\nText on page two.\n\f\n\f\nText on page four.",
    "long-list": "## Outcomes\n\nThe council agreed on the following points:\n"
    + "\n".join(long_item(i) for i in range(1, 13)),
    "long-paragraph": long_paragraph(),
    "huge-sentence": " ".join(random.Random(2).choice(WORDS) for _ in range(900)),
    "no-space-blob": "x" * 4000,
    "abbreviations": "He met Mr. Kono on Monday. U.S. policy, e.g. this one, changed. One. Two.\n" * 30,
}

SETTINGS = {"default": ChunkSettings(), "small": ChunkSettings(target_chars=80, max_chars=200, hard_max_chars=400)}

DOCUMENTS = [pytest.param(d, id=d.doc_id) for d in CORPUS_DOCUMENTS] + [
    pytest.param(Document(f"{name}.txt", text.strip(), name), id=name) for name, text in SAMPLES.items()
]


def chunks_of(text: str, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    return chunk_document(Document("doc.txt", text, "A title"), settings)


def test_the_bundled_corpus_is_there():
    assert len(CORPUS_DOCUMENTS) >= 5


# --- invariants, on every corpus document and every sample ---------------------------------------


@pytest.fixture(params=SETTINGS.values(), ids=SETTINGS.keys())
def settings(request) -> ChunkSettings:
    return request.param


@pytest.mark.parametrize("document", DOCUMENTS)
def test_chunk_text_is_the_document_text_at_its_offsets(document, settings):
    chunks = chunk_document(document, settings)

    assert chunks
    for chunk in chunks:
        assert chunk.doc_id == document.doc_id
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()  # no leading or trailing whitespace


@pytest.mark.parametrize("document", DOCUMENTS)
def test_chunks_do_not_overlap_and_come_in_document_order(document, settings):
    chunks = chunk_document(document, settings)

    for chunk in chunks:
        assert chunk.start < chunk.end
    for before, after in zip(chunks, chunks[1:]):
        assert before.end <= after.start


@pytest.mark.parametrize("document", DOCUMENTS)
def test_chunks_cover_all_the_text(document, settings):
    covered = set()
    for chunk in chunk_document(document, settings):
        covered.update(range(chunk.start, chunk.end))

    lost = "".join(ch for i, ch in enumerate(document.text) if i not in covered and not ch.isspace())
    assert lost == ""


def _cut_inside_huge_sentence(text: str, offset: int, settings: ChunkSettings) -> bool:
    """Is offset a cut at a space inside a 'sentence' longer than hard_max_chars?"""
    for start, end in split_sentences(text):
        if start < offset < end:
            return end - start > settings.hard_max_chars and (text[offset].isspace() or text[offset - 1].isspace()
                                                               or " " not in text[start:end])
    return False


@pytest.mark.parametrize("document", DOCUMENTS)
def test_chunks_start_and_end_at_sentence_boundaries(document, settings):
    spans = split_sentences(document.text)  # block ends are line ends, which end a sentence span too
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}

    for chunk in chunk_document(document, settings):
        assert chunk.end in ends or _cut_inside_huge_sentence(document.text, chunk.end, settings), chunk.text[-60:]
        assert chunk.start in starts or _cut_inside_huge_sentence(document.text, chunk.start, settings), chunk.text[:60]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_chunks_are_no_longer_than_max_chars_unless_one_long_sentence(document, settings):
    for chunk in chunk_document(document, settings):
        assert len(chunk.text) <= settings.hard_max_chars
        body = _without_leading_headings(chunk.text)
        if len(body) > settings.max_chars:
            assert len(split_sentences(body)) == 1, chunk.text[:80]


def _without_leading_headings(text: str) -> str:
    """text after its opening heading lines and lead-in, which may push a chunk past max_chars."""
    lines = text.split("\n")
    while len(lines) > 1 and (not lines[0].strip() or lines[0].rstrip("*_ ").endswith(":")
                              or (len(lines[0]) <= 100 and not lines[0].rstrip().endswith(tuple(".!?;,")))):
        lines.pop(0)
    return "\n".join(lines)


def test_a_lead_in_stays_with_the_long_paragraph_it_introduces(settings):
    sentence = "The EU and Japan share values, an economic model and a vision of the world."
    quote = "“" + " ".join([sentence] * (settings.max_chars // (len(sentence) + 1))) + "”"
    text = f"The leaders met in Tokyo.\n\nIn her press remarks, the President said:\n\n{quote}\n"
    chunks = chunk_document(Document("d", text, "Title"), settings)

    assert settings.max_chars - 100 < len(quote) <= settings.max_chars  # fits alone, not with the lead-in
    assert not any(chunk.text.endswith("said:") for chunk in chunks)
    assert any(chunk.text.startswith("In her press remarks") and chunk.text.endswith("”") for chunk in chunks)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_chunk_has_a_location(document, settings):
    multi_page = "\f" in document.text
    for chunk in chunk_document(document, settings):
        assert chunk.location
        assert chunk.location.startswith("page ") == multi_page


# --- long text -----------------------------------------------------------------------------------


def test_a_long_paragraph_without_newlines_is_cut_only_between_sentences():
    text = long_paragraph(10_000)
    assert len(text) >= 10_000 and "\n" not in text
    sentence_ends = {i + 1 for i, ch in enumerate(text) if ch == "."}
    sentence_starts = {0} | {end + 1 for end in sentence_ends}

    chunks = chunks_of(text)

    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.end in sentence_ends
        assert chunk.start in sentence_starts
        assert len(chunk.text) <= ChunkSettings().max_chars
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_a_sentence_longer_than_hard_max_chars_is_cut_at_spaces():
    settings = ChunkSettings()
    text = SAMPLES["huge-sentence"]
    assert len(text) > 3 * settings.hard_max_chars

    chunks = chunks_of(text)

    assert len(chunks) >= 4
    for chunk in chunks:
        assert len(chunk.text) <= settings.hard_max_chars
        assert chunk.end == len(text) or text[chunk.end] == " "  # never in the middle of a word
        assert chunk.start == 0 or text[chunk.start - 1] == " "
    assert " ".join(c.text for c in chunks) == text


def test_a_huge_word_is_cut_at_hard_max_chars():
    chunks = chunks_of("x" * 4000)

    assert [len(c.text) for c in chunks] == [1500, 1500, 1000]


# --- sentences -----------------------------------------------------------------------------------

SENTENCES = {
    "mr": ("Mr. Kono met the minister.", ["Mr. Kono met the minister."]),
    "us": ("U.S. policy changed last year.", ["U.S. policy changed last year."]),
    "us-capital": ("He met Mr. Kono. U.S. President Biden spoke.", ["He met Mr. Kono.", "U.S. President Biden spoke."]),
    "eg": ("Some areas, e.g. this one, matter.", ["Some areas, e.g. this one, matter."]),
    "eg-sentence-start": ("Look at e.g. this example.", ["Look at e.g. this example."]),
    "initial": ("J. Smith wrote it. Then he left.", ["J. Smith wrote it.", "Then he left."]),
    "two": ("One. Two.", ["One.", "Two."]),
    "question-exclamation": ("Who chaired it? Virkkunen did! Yes.", ["Who chaired it?", "Virkkunen did!", "Yes."]),
    "quote": ('He said "It is done." Then he left.', ['He said "It is done."', "Then he left."]),
    "number": ("Version 2.0 is out. Yes.", ["Version 2.0 is out.", "Yes."]),
    "lines": ("First line without a stop\nSecond line.", ["First line without a stop", "Second line."]),
    "digits": ("It rose by 5. 2024 was a good year.", ["It rose by 5.", "2024 was a good year."]),
}


@pytest.mark.parametrize("text, expected", SENTENCES.values(), ids=SENTENCES.keys())
def test_split_sentences(text, expected):
    spans = split_sentences(text)

    assert [text[start:end] for start, end in spans] == expected


def test_split_sentences_of_nothing():
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []


# --- structure: which blocks start a chunk -------------------------------------------------------


def test_headings_stay_with_what_follows_them():
    text = "# Title\n\n## Section\n\nA short paragraph under the section."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [text]


def test_a_heading_after_a_paragraph_starts_a_chunk():
    text = "A first paragraph of text.\n\n## Second section\n\nA second paragraph of text."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [
        "A first paragraph of text.",
        "## Second section\n\nA second paragraph of text.",
    ]


def test_a_list_item_after_a_paragraph_starts_a_chunk():
    text = "A paragraph before the list.\n\n- first item.\n- second item.\n\nA paragraph after the list."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [
        "A paragraph before the list.",
        "- first item.\n- second item.",
        "A paragraph after the list.",
    ]
    assert chunks[1].location == "items 1-2"


@pytest.mark.parametrize(
    "items",
    [["- one.", "- two."], ["* one.", "* two."], ["• one.", "• two."], ["1. one.", "2. two."],
     ["a) one.", "b) two."]],
    ids=["dash", "star", "bullet", "numbered", "lettered"],
)
def test_list_markers_make_items(items):
    chunks = chunks_of("A paragraph before the list.\n\n" + "\n".join(items))

    assert chunks[-1].text == "\n".join(items)
    assert chunks[-1].location == "items 1-2"


def test_a_lead_in_stays_with_its_items():
    text = "The council concluded with the following outcomes:\n- Chips.\n- Quantum."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [text]


def test_a_list_with_its_lead_in_is_kept_apart_from_a_short_paragraph_before_it():
    text = "A short opening paragraph.\n\nThe council concluded with the following outcomes:\n- Chips.\n- Quantum."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [
        "A short opening paragraph.",
        "The council concluded with the following outcomes:\n- Chips.\n- Quantum.",
    ]


def test_a_bold_line_is_not_a_list_item():
    text = "A first paragraph of text.\n\n**Note:** the council will meet again in Brussels next year."

    chunks = chunks_of(text)

    assert all(not c.location.startswith("item") for c in chunks)


def test_chunks_close_once_they_reach_target_chars():
    paragraphs = [f"Paragraph {i} " + "is about cooperation on chips and data. " * 8 for i in range(1, 5)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert all(ChunkSettings().target_chars <= len(p) <= ChunkSettings().max_chars for p in paragraphs)

    chunks = chunks_of(text)

    assert [c.location for c in chunks] == ["paragraph 1", "paragraph 2", "paragraph 3", "paragraph 4"]


def test_short_paragraphs_are_grouped():
    chunks = chunks_of("One short paragraph.\n\nAnother short one.\n\nA third.")

    assert len(chunks) == 1
    assert chunks[0].location == "paragraphs 1-3"


# --- context and location ------------------------------------------------------------------------


def test_item_chunks_carry_the_heading_and_lead_in_above_them():
    chunks = chunks_of(SAMPLES["long-list"])

    assert len(chunks) >= 3
    assert chunks[0].text.startswith("## Outcomes\n\nThe council agreed")
    assert chunks[0].context == ""  # the heading and lead-in are in its own text
    for chunk in chunks[1:]:
        assert chunk.text.startswith("- Item")
        assert chunk.context == "Outcomes — The council agreed on the following points:"
    assert chunks[1].location.startswith("items ")


def test_paragraph_chunks_carry_the_heading_but_not_a_finished_lead_in():
    long = "This paragraph talks about cooperation on chips and data at some length. " * 5
    text = (
        "## Background\n\n" + long + "\n\nThe council agreed on the following:\n- a first point.\n- a second point.\n\n"
        + long + "\n\n## Next steps\n\n" + long
    )

    chunks = chunks_of(text)

    assert [(c.text[:20], c.context) for c in chunks[:3]] == [
        ("## Background\n\nThis ", ""),
        ("The council agreed o", "Background"),  # the lead-in is in the text itself
        ("This paragraph talks", "Background"),  # the list is over: its lead-in no longer applies
    ]
    assert chunks[3].text.startswith("## Next steps")


def test_two_levels_of_headings_are_kept_in_context():
    long = "This paragraph talks about cooperation on chips and data at some length. " * 5
    text = f"# Council\n\n## Semiconductors\n\n{long}\n\n{long}"

    chunks = chunks_of(text)

    assert chunks[-1].context == "Council — Semiconductors"


def test_a_short_question_on_its_own_line_heads_the_text_below_it():
    long = "This paragraph talks about cooperation on chips and data at some length. " * 5
    text = f"# Explainer\n\nHow does the arrangement work?\n\n{long}\n\n{long}\n\nIs that all? It is not. {long}"

    chunks = chunks_of(text)

    assert chunks[2].context == "Explainer — How does the arrangement work?"  # an explainer's or FAQ's heading
    assert chunks[-1].text.startswith("Is that all? It is not.")  # a question inside a paragraph heads nothing


def test_page_breaks_give_page_locations():
    chunks = chunks_of(SAMPLES["pages"])

    assert [(c.text, c.location) for c in chunks] == [
        ("Text on page one. It has two sentences.", "page 1, paragraph 1"),
        ("Text on page two.", "page 2, paragraph 1"),
        ("Text on page four.", "page 4, paragraph 1"),
    ]


def test_a_chunk_never_spans_a_page_break():
    text = "Short.\n\f\nAlso short."

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == ["Short.", "Also short."]


@pytest.mark.parametrize(
    "text",
    ["Page one text.\n\fPage two first line.\nMore on page two.", "Page one text.\fPage two text."],
    ids=["form-feed-at-line-start", "form-feed-inside-line"],
)
def test_text_on_a_line_with_a_form_feed_is_kept(text):
    chunks = chunks_of(text)

    joined = " ".join(c.text for c in chunks)
    assert "Page one text." in joined
    assert "Page two" in joined
    assert chunks[-1].location.startswith("page 2")


def test_locations_count_paragraphs_and_items():
    chunks = chunks_of(SAMPLES["numbered"])

    assert [c.location for c in chunks] == ["paragraph 2", "items 1-2"]
    assert chunks[1].context == "Title line"


def test_searchable_text_adds_title_date_and_context():
    document = Document("doc.md", SAMPLES["long-list"], "Council statement", date="2025-05-12")
    chunk = chunk_document(document)[1]

    text = searchable_text(chunk, document)

    header, body = text.split("\n", 1)
    assert header == "Council statement — 2025-05-12 — Outcomes — The council agreed on the following points:"
    assert body == chunk.text


def test_a_sentence_in_context_follows_its_title_and_heading_without_the_date():
    document = Document("doc.md", SAMPLES["long-list"], "Council statement", date="2025-05-12")
    chunk = chunk_document(document)[1]
    sentence = chunk.text.splitlines()[0]

    assert sentence_in_context(sentence, chunk, document) == (
        f"Council statement — Outcomes — The council agreed on the following points: {sentence}"
    )
    untitled = Document("doc.md", "One plain sentence here.", "")
    assert sentence_in_context("One plain sentence here.", chunk_document(untitled)[0], untitled) == "One plain sentence here."


def test_chunking_is_deterministic():
    document = CORPUS_DOCUMENTS[0]

    assert chunk_document(document) == chunk_document(document)


def test_a_run_of_short_lines_is_one_block_of_labels_and_its_last_line_heads_what_follows():
    # a slide flattened to text: a title, logo names, then a sub-heading over a list
    text = (
        "Industry recommendations before the summit (1 March, 2022)\n\nDIGITALEUROPE\n\nJEITA\n\n"
        "Background of the partnership\n\n- The partnership was launched in 2022.\n- A council meets once a year."
    )

    chunks = chunks_of(text)

    assert [c.text for c in chunks] == [
        "Industry recommendations before the summit (1 March, 2022)\n\nDIGITALEUROPE\n\nJEITA",
        "Background of the partnership\n\n- The partnership was launched in 2022.\n- A council meets once a year.",
    ]


def test_markdown_headings_are_never_folded_into_labels():
    text = "# Title\n\n## Section\n\nBody text of the section."

    chunks = chunks_of(text)

    assert chunks[-1].text.endswith("Body text of the section.")
    assert "## Section" in chunks[-1].text
