"""The readers (qa/readers/): the bundled documents as Word, PowerPoint, printed PDF, two-column PDF, deck PDF,
web page and scan (bench/formats/, made by its render.py) read as a person reads them."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pymupdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.chunks import chunk_document
from qa.documents import PAGE_BREAK, read_corpus, read_document
from qa.errors import UnreadableDocument
from qa.readers import ocr
from qa.readers.blocks import join_lines

FORMATS = Path(__file__).parent.parent / "bench" / "formats"
THIRD = "2025-05-12-third-digital-partnership-council"
SECOND = "2024-05-01-second-digital-partnership-council"
DECK = "2025-10-15-digital-agency-future-prospects"
PRINTED = {  # PDFs with a running header, a "Page n of m" footer and words hyphenated at line ends
    "libreoffice": FORMATS / "libreoffice-pdf",
    "reportlab, two columns": FORMATS / "reportlab-pdf",
}
SPLIT_WORD = re.compile(r"[^\W\d_]- [a-z]")  # "Brus- sels"


@pytest.fixture(scope="module", params=PRINTED.values(), ids=PRINTED.keys())
def printed(request) -> list:
    documents, skipped = read_corpus(request.param)
    assert not skipped
    return documents


def test_printed_pdf_passages_hold_no_running_header_footer_or_split_word(printed):
    for document in printed:
        for chunk in chunk_document(document):
            assert not re.search(r"Page \d+ of \d+", chunk.text), chunk
            assert not SPLIT_WORD.search(chunk.text), chunk
            assert chunk.location.startswith("page "), chunk
    whole = "\n".join(document.text for document in printed)
    assert "Vice-President" in whole  # a real hyphen stays
    assert "Brussels" in whole


def test_printed_pdf_paragraphs_are_rebuilt_across_lines_and_columns(printed):
    third = next(document for document in printed if THIRD in document.doc_id)
    second = next(document for document in printed if SECOND in document.doc_id)
    # one sentence printed over several lines reads whole, in order, whichever column it is set in
    assert ("The Council was co-chaired by Henna Virkkunen, Executive Vice-President for Tech Sovereignty, Security "
            "and Democracy") in third.text
    assert ("Japan and the EU reaffirmed the importance of building an ever-closer strategic partnership between "
            "the two sides") in second.text
    starts_mid_word = [c for d in printed for c in chunk_document(d) if c.text[:1].islower()]
    assert len(starts_mid_word) <= 1


def test_pdf_metadata_author_is_the_publisher_and_the_dateline_beats_the_print_date(printed):
    third = next(document for document in printed if THIRD in document.doc_id)
    assert third.title == "EU and Japan strengthen technological and digital cooperation"
    assert third.publisher == "European Commission"
    assert third.date == "2025-05-12"  # "Tokyo, 12 May 2025", not the day the file was printed


@pytest.mark.parametrize("path", [FORMATS / "docx" / f"{DECK}.docx", FORMATS / "pptx" / f"{DECK}.pptx",
                                  FORMATS / "libreoffice-pdf" / f"{DECK}.pdf", FORMATS / "pptx-pdf" / f"{DECK}.pdf"],
                         ids=["docx", "pptx", "pdf", "deck-pdf"])
def test_a_table_row_keeps_its_cells_together(path):
    document = read_document(path)
    rows = [chunk.text for chunk in chunk_document(document) if "The University of Tokyo (Lead)" in chunk.text]
    assert any(re.search(r"Japan \| Harmony: .* \| The University of Tokyo \(Lead\)", row) for row in rows), rows


def test_word_headings_lists_and_core_properties():
    document = read_document(FORMATS / "docx" / f"{THIRD}.docx")
    kinds = {document.text[b.start:b.end]: b.kind for b in document.blocks}
    assert document.publisher == "European Commission" and document.date == "2025-05-12"
    assert any(kind == "item" and text.startswith("Semiconductors:") for text, kind in kinds.items())
    assert "\uf0b7" not in document.text  # Word's Symbol-font bullet is layout, not text


def test_a_slide_is_a_page_with_its_title_and_speaker_notes():
    document = read_document(FORMATS / "pptx" / f"{DECK}.pptx")
    slides = document.text.split(PAGE_BREAK)
    assert len(slides) > 5
    assert any(block.kind == "heading" and block.page == 2 for block in document.blocks)
    assert "Speaker notes: " in document.text
    assert all("page" in chunk.location for chunk in chunk_document(document))


def test_a_web_page_keeps_its_dateline_and_drops_the_site_around_it():
    document = read_document(FORMATS / "html" / f"{SECOND}.html")
    assert document.date == "2024-05-01"
    assert "cookie" not in document.text.lower()
    assert "Published on" in document.text or "May 1, 2024" in document.text


def test_japanese_pdf_loses_the_spaces_layout_puts_between_scripts():
    document = read_document(FORMATS / "japanese-pdf" / "2022-05-12-summit-digital-partnership-ja.pdf")
    assert "2022年5月12日" in document.text
    assert not re.search(r"\d [年月日]|[年月] \d", document.text)
    assert document.language in ("", "ja") and document.publisher == "外務省"


@pytest.mark.parametrize("path, expected", [
    (FORMATS / "scan" / "2022-05-12-eu-japan-summit-digital-partnership.pdf", "Digital Partnership"),
    (FORMATS / "japanese-scan" / "2022-05-12-summit-digital-partnership-ja.pdf", "デジタル"),
], ids=["english", "japanese"])
def test_a_scanned_page_is_read_by_ocr_and_cited_as_such(path, expected):
    document = read_document(path)
    assert expected in document.text
    assert all(block.ocr for block in document.blocks)
    assert all(chunk.location.endswith("(OCR)") for chunk in chunk_document(document))


def test_a_scan_without_ocr_installed_is_skipped_saying_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "_tesseract", lambda: ("", ""))
    (tmp_path / "scan.pdf").write_bytes((FORMATS / "scan" / f"{THIRD}.pdf").read_bytes())
    (tmp_path / "ok.md").write_text("A readable document.\n", encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["ok.md"]
    assert "apt-get install tesseract-ocr" in skipped[0].reason and "scan.pdf" in skipped[0].reason


def pdf(metadata: dict, encrypt: bool = False) -> bytes:
    with pymupdf.open() as document:
        page = document.new_page()
        page.insert_text((72, 72), "Brussels, 30 April 2024. The council met.")
        document.set_metadata(metadata)
        if encrypt:
            return document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
        return document.tobytes()


@pytest.mark.parametrize("created", ["D:20261207225438Z'", "D:2026", "yesterday", "D:20261399", ""])
def test_odd_pdf_dates_never_fail_a_read(tmp_path, created):
    path = tmp_path / "odd.pdf"
    path.write_bytes(pdf({"creationDate": created, "title": "Microsoft Word - draft3.docx", "author": "DG CONNECT"}))

    document = read_document(path)

    assert document.date == "2024-04-30"  # the dateline
    assert document.title != "Microsoft Word - draft3.docx"  # a file name is no title
    assert document.publisher == "DG CONNECT"


def test_a_pdf_with_a_password_is_refused_saying_so(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(pdf({}, encrypt=True))
    with pytest.raises(UnreadableDocument, match="password"):
        read_document(path)


def test_a_zip_bomb_named_pptx_is_refused(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", b"<p/>")
        archive.writestr("ppt/slides/slide1.xml", b"\0" * 300_000_000)
    path = tmp_path / "bomb.pptx"
    path.write_bytes(out.getvalue())
    with pytest.raises(UnreadableDocument, match="zip bomb"):
        read_document(path)


@pytest.mark.parametrize("lines, joined", [
    (["Vice-Presi-", "dent of the Commission"], "Vice-President of the Commission"),
    (["in Brus-", "sels"], "in Brussels"),
    (["a high-", "level meeting"], "a high-level meeting"),  # "highlevel" is no word: the hyphen is real
    (["the EU-", "Japan summit"], "the EU-Japan summit"),  # a capital after it: a compound
    (["令和 5 年 7 月", "3 日に EU と"], "令和5年7月3日にEUと"),
], ids=["compound", "name", "real-hyphen", "capital", "japanese"])
def test_join_lines(lines, joined):
    assert join_lines(lines) == joined


@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40), max_size=8))
def test_join_lines_keeps_every_letter_in_order(lines):
    joined = join_lines(lines)
    assert "\n" not in joined.strip("\n") or any("\n" in line.strip() for line in lines)
    letters = [ch for line in lines for ch in line if ch.isalnum()]
    assert [ch for ch in joined if ch.isalnum()] == letters


def test_questions_are_answered_from_printed_pdfs_and_a_scan_with_pages_in_their_citations(
        tmp_path, embedder):
    from qa.answer import answer
    from qa.build import build_index
    from qa.index import Index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for folder, name in (("libreoffice-pdf", f"{THIRD}.pdf"), ("scan", f"{SECOND}.pdf"), ("libreoffice-pdf", f"{DECK}.pdf")):
        (corpus / name).write_bytes((FORMATS / folder / name).read_bytes())
    build_index(corpus, tmp_path / "index", embedder=embedder)
    index = Index.load(tmp_path / "index", embedder=embedder)

    for question, expected, where in [
        ("When and where will the fourth Digital Partnership Council take place?", "planned for 2026 in Brussels",
         THIRD),
        ("Where was the second Digital Partnership Council held?", "Brussels, Belgium", SECOND),
        ("Who leads the Japanese side of the 6G MIRAI-HARMONY project?", "The University of Tokyo (Lead)", DECK),
    ]:
        result = answer(question, index=index)
        hits = [p for p in result.passages[:5] if expected in " ".join(p.text.split())]
        assert hits and hits[0].doc_id.startswith(where), (question, result.passages)
        assert hits[0].location.startswith("page "), hits[0]
        assert hits[0].location.endswith("(OCR)") == (where == SECOND)


def test_bullets_drawn_as_shapes_mark_list_items(tmp_path):
    """Browsers print a list's discs as filled circles, not as a bullet character."""
    with pymupdf.open() as document:
        page = document.new_page()
        page.insert_text((72, 72), "The partners agreed on three points:")
        for n, item in enumerate(("Semiconductors: a joint research call.", "Quantum: a shared roadmap.",
                                  "Data: interoperable data spaces.")):
            y = 100 + 16 * n
            page.draw_circle((80, y - 3.5), 2, fill=(0, 0, 0), color=None)
            page.insert_text((90, y), item)
        (tmp_path / "list.pdf").write_bytes(document.tobytes())

    document = read_document(tmp_path / "list.pdf")

    items = [document.text[b.start:b.end] for b in document.blocks if b.kind == "item"]
    assert items == ["Semiconductors: a joint research call.", "Quantum: a shared roadmap.",
                     "Data: interoperable data spaces."]
