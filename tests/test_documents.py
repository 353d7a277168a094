"""Reading corpus files: one reader per format, metadata, encodings, and files that must be skipped."""

from __future__ import annotations

import gzip
import io
import random

import pytest
from conftest import REPOSITORY

from qa.documents import MAX_FILE_BYTES, PAGE_BREAK, Document, Skipped, read_corpus, read_document
from qa.errors import UnreadableDocument, UnsupportedFormat

SEEDS = REPOSITORY.parent / "shared" / "seeds"  # the five documents as captured, without metadata headers
BODY = "The EU and Japan held their third Digital Partnership Council in Tokyo.\n\nThey agreed to cooperate on chips.\n"

HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Council report on quantum cooperation</title>
  <script>var tracker = "SCRIPT-SECRET-42";</script>
</head>
<body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
  <main><article>
    <h2>Quantum cooperation announced</h2>
    <p>The European Union and Japan agreed today to deepen their cooperation on quantum technology
       and high performance computing.</p>
    <h3>Key outcomes</h3>
    <p>The partners identified several areas where joint research will start next year under the
       Digital Partnership.</p>
    <ul>
      <li>Joint research call on quantum computing applications.</li>
      <li>Exchange of researchers between national laboratories.</li>
    </ul>
  </article></main>
  <script>console.log("ANOTHER-SCRIPT-SECRET")</script>
</body>
</html>
"""


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF: one text content stream per page, Helvetica, and a correct xref table."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        operators = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operators.append(f"({escaped}) Tj T*")
        operators.append("ET")
        stream = "\n".join(operators).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info = ""
    if title:
        objects.append(f"<< /Title ({title}) /CreationDate (D:20240430120000Z) >>".encode())
        info = f" /Info {len(objects)} 0 R"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode())
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


PDF_PAGES = [
    ["Joint statement of the council.", "The first page is about semiconductors."],
    ["The second page is about quantum research."],
    ["The third page is about submarine cables."],
]


# --- plain text and Markdown ---------------------------------------------------------------------


def test_txt_without_front_matter_takes_its_title_from_the_first_line(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(BODY, encoding="utf-8")

    document = read_document(path)

    assert document.doc_id == "plain.txt"
    assert document.text == BODY.strip()
    assert document.title == "The EU and Japan held their third Digital Partnership Council in Tokyo."
    assert (document.publisher, document.date, document.url, document.language) == ("", "", "", "")
    assert len(document.sha256) == 64


@pytest.mark.parametrize(
    "date_line",
    ["date: 2025-05-12", 'date: "2025-05-12"', "date: 2025-05-12 10:30:00"],
    ids=["yaml-date", "quoted-string", "yaml-datetime"],
)
def test_txt_front_matter_gives_metadata_and_an_iso_date(tmp_path, date_line):
    path = tmp_path / "statement.txt"
    path.write_text(
        "---\n"
        "title: EU and Japan strengthen technological and digital cooperation\n"
        "publisher: European Commission\n"
        f"{date_line}\n"
        "url: https://ec.europa.eu/commission/presscorner/detail/en/ip_25_1185\n"
        "language: en\n"
        "source: ignored.txt\n"
        "---\n" + BODY,
        encoding="utf-8",
    )

    document = read_document(path)

    assert document.title == "EU and Japan strengthen technological and digital cooperation"
    assert document.publisher == "European Commission"
    assert document.date == "2025-05-12"
    assert document.url == "https://ec.europa.eu/commission/presscorner/detail/en/ip_25_1185"
    assert document.language == "en"
    assert document.text == BODY.strip()  # the header is not part of the text
    assert "---" not in document.text


def test_front_matter_with_a_byte_order_mark_and_crlf_is_read(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf---\r\ntitle: Written on Windows\r\n---\r\nFirst line.\r\nSecond line.\r\n")

    document = read_document(path)

    assert document.title == "Written on Windows"
    assert document.text == "First line.\nSecond line."


def test_markdown_title_comes_from_its_first_heading(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Second Digital Partnership Council\n\n" + BODY, encoding="utf-8")

    document = read_document(path)

    assert document.title == "Second Digital Partnership Council"
    assert document.text.startswith("# Second Digital Partnership Council\n\nThe EU and Japan")


def test_markdown_front_matter_is_read_like_text(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: From the header\ndate: 2024-04-30\n---\n# A heading\n\nBody text.\n", encoding="utf-8")

    document = read_document(path)

    assert (document.title, document.date) == ("From the header", "2024-04-30")
    assert document.text == "# A heading\n\nBody text."


@pytest.mark.parametrize("text, title", [
    (("Skip to main content\nShaping Europe’s digital future\nPress release | Publication\n\n"
      "EU-Japan Summit: strengthening our partnership\n\nJapan is one of the EU's closest allies.\n"),
     "EU-Japan Summit: strengthening our partnership"),
    ("\n\nFuture Prospects for the Japan-EU Digital Partnership\n\n15 October, 2025\n\nIKEDA Mitsuru\n",
     "Future Prospects for the Japan-EU Digital Partnership"),
    ("Second Council held\nThe EU and Japan met in Brussels on 30 April.\nThey agreed on chips.\n", "Second Council held"),
    ("Menu\nNews\n\n## Quantum cooperation announced\n\nThe partners agreed.\n", "Quantum cooperation announced"),
    (BODY, "The EU and Japan held their third Digital Partnership Council in Tokyo."),
], ids=["past-navigation", "slide-title", "line-above-text", "markdown-heading", "opens-with-a-sentence"])
def test_text_without_metadata_takes_the_title_it_gives_itself(tmp_path, text, title):
    path = tmp_path / "capture.txt"
    path.write_text(text, encoding="utf-8")

    assert read_document(path).title == title


@pytest.mark.parametrize("top, date", [
    ("Brussels, 23 January 2019\n\nToday the Commission adopted its decision.", "2019-01-23"),
    ("Published on May 1, 2024\n\nOn April 30, 2024, the council met.", "2024-05-01"),
    ("15 October, 2025\n\nIKEDA Mitsuru, Digital Agency", "2025-10-15"),
    ("TOKYO, 1st July 2023 - The partners signed a memorandum.", "2023-07-01"),
    ("Updated 2024-06-20", "2024-06-20"),
    ("WASHINGTON, Sept. 12, 2024 - The agencies met.", "2024-09-12"),
    ("The talks that had been under way for years were concluded on 17 July 2018.", ""),
    ("Timeline\n\n- 30 October 2023: G7 leaders agree the principles\n- May 2024: Friends Group", ""),
    ("Brussels, 31 February 2019\n\nNo such day.", ""),
    ("\n".join(["A line of text."] * 20) + "\nBrussels, 23 January 2019", ""),
], ids=["dateline", "published-on", "slide-date", "ordinal", "iso", "sept", "inside-a-sentence", "timeline-item",
        "no-such-day", "too-far-down"])
def test_text_without_metadata_takes_its_date_from_a_dateline_near_the_top(tmp_path, top, date):
    path = tmp_path / "capture.txt"
    path.write_text(f"A title\n\n{top}\n\nMore text.\n", encoding="utf-8")

    assert read_document(path).date == date


JAPANESE = ("日EUデジタルパートナーシップ閣僚会合の開催\n\n令和6年5月1日\n外務省\n\n"
            "本日、第2回日EUデジタルパートナーシップ閣僚会合が東京で開催されました。両者は半導体について協力することで一致しました。\n")


def test_a_japanese_text_without_metadata_takes_its_title_and_its_dateline(tmp_path):
    path = tmp_path / "press.txt"
    path.write_text(JAPANESE, encoding="utf-8")

    document = read_document(path)

    assert (document.title, document.date) == ("日EUデジタルパートナーシップ閣僚会合の開催", "2024-05-01")


@pytest.mark.parametrize("text, title", [
    # the dateline and the ministry's name above the title, like a web page's navigation
    ("令和6年5月1日\n外務省\n\n第2回閣僚会合の開催\n\n本文です。\n", "第2回閣僚会合の開催"),
    # sentences ending in 。 are text, not a run of short title-like lines to pass over (each line is one "word")
    ("日本とEUは協力することで合意した。\n両者は東京で会合を開いた。\n\n2024年5月1日\n\n見出し\n",
     "日本とEUは協力することで合意した。"),
    # a line of 60 characters without a space is as long as a 30-word English one: a sentence, not a title
    ("日本と欧州連合は半導体と人工知能とデータの自由な流通と海底ケーブルと量子技術について幅広く協力を深めていくことで一致した\n"
     "短い行\n\n見出し\n", "日本と欧州連合は半導体と人工知能とデータの自由な流通と海底ケーブルと量子技術について幅広く協力を深めていくことで一致した"),
    ("ホーム\n報道発表\n\n「日EU・デジタルパートナーシップ」第3回閣僚会合の結果\n\n会合が開催された。\n",
     "「日EU・デジタルパートナーシップ」第3回閣僚会合の結果"),
], ids=["past-the-dateline", "opens-with-sentences", "long-line", "past-navigation"])
def test_a_japanese_text_without_metadata_takes_the_title_it_gives_itself(tmp_path, text, title):
    path = tmp_path / "capture.txt"
    path.write_text(text, encoding="utf-8")

    assert read_document(path).title == title


@pytest.mark.parametrize("top, date", [
    ("令和6年5月1日", "2024-05-01"),
    ("令和元年5月1日", "2019-05-01"),
    ("平成31年4月30日", "2019-04-30"),
    ("２０２５年５月１５日", "2025-05-15"),
    ("2025年5月15日　外務省", "2025-05-15"),
    ("2025/5/15", "2025-05-15"),
    ("　　　　　　　　　　　　　　　　　　　　　　　　令和6年5月1日", "2024-05-01"),  # right-aligned, as Japanese letters are
    ("東京、2024年5月1日 - 両者は合意した。", "2024-05-01"),
    ("第2回日EUデジタルパートナーシップ閣僚会合は、東京において2024年5月1日に開催された。", ""),  # inside a sentence
    ("経緯\n\n・2023年10月30日　G7首脳が原則に合意\n・2024年5月　フレンズ・グループ", ""),  # a timeline's items
    ("平成32年1月1日", ""),  # 平成 ended in its 31st year
    ("令和6年2月30日", ""),
    ("5月1日", ""),  # no year: not guessed
], ids=["reiwa", "reiwa-first-year", "heisei-last-day", "full-width", "western", "slashes", "right-aligned",
        "dateline", "inside-a-sentence", "timeline-item", "past-the-era", "no-such-day", "no-year"])
def test_a_japanese_text_without_metadata_takes_its_date_from_a_dateline_near_the_top(tmp_path, top, date):
    path = tmp_path / "capture.txt"
    path.write_text(f"見出し\n\n{top}\n\n本文です。\n", encoding="utf-8")

    assert read_document(path).date == date


def test_a_japanese_metadata_header_wins_over_the_text(tmp_path):
    path = tmp_path / "press.txt"
    path.write_text("---\ntitle: 見出しはヘッダーから\ndate: 2025-05-12\nlanguage: ja\n---\n" + JAPANESE, encoding="utf-8")

    document = read_document(path)

    assert (document.title, document.date, document.language) == ("見出しはヘッダーから", "2025-05-12", "ja")


def test_a_metadata_header_wins_over_the_text(tmp_path):
    path = tmp_path / "release.txt"
    path.write_text("---\ntitle: From the header\ndate: 2024-04-30\n---\nSkip to main content\n\nThe page title\n\n"
                    "Brussels, 23 January 2019\n\nBody text.\n", encoding="utf-8")

    document = read_document(path)

    assert (document.title, document.date) == ("From the header", "2024-04-30")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds beside the repository")
def test_the_captured_seed_documents_get_their_titles_and_dates_without_metadata():
    # the five documents as they were captured: web navigation above the title, dates only where a dateline is
    titles_and_dates = {path.name: (d.title, d.date) for path in SEEDS.glob("*.txt") if (d := read_document(path))}

    assert titles_and_dates["000_3f42e607960e322f.txt"] == ("EU-Japan Summit: strengthening our partnership", "")
    assert titles_and_dates["003_798d8710f1291700.txt"] == ("Future Prospects for the Japan-EU Digital Partnership",
                                                            "2025-10-15")
    assert titles_and_dates["004_1ed60d3e88173fc1.txt"] == (
        "Second Meeting of the Japan-EU Digital Partnership Council Held", "2024-05-01")


TABLE = """# What is known of these files

Captured from the web; see the notes.

| file | title | publisher | date | url | notes |
|---|---|---|---|---|---|
| `release.txt` | EU and Japan strengthen digital cooperation | European Commission | 2025-05-12 | https://ec.europa.eu/ip_25_1185 | press release |
| article.txt | (news article; title not captured) | The Japan Times | 2023-07-14 | (not captured) | |
| missing.txt | Listed but not in the folder | Nobody | 2020-01-01 | — | |
"""
CAPTURE = "Skip to main content\n\nThe EU and Japan held their third Digital Partnership Council.\n"
ARTICLE = "Japan and the EU launch a security dialogue\n\nTOKYO - The two sides agreed on Thursday to talk.\n"


def test_a_metadata_table_beside_the_files_gives_their_metadata_and_is_not_indexed(tmp_path):
    (tmp_path / "METADATA.md").write_text(TABLE, encoding="utf-8")
    (tmp_path / "release.txt").write_text(CAPTURE, encoding="utf-8")
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    article, release = documents
    assert (release.doc_id, release.title, release.publisher, release.date, release.url) == (
        "release.txt", "EU and Japan strengthen digital cooperation", "European Commission", "2025-05-12",
        "https://ec.europa.eu/ip_25_1185")
    # a note in a cell gives nothing: the title is the article's own, and there is no link
    assert (article.title, article.publisher, article.date, article.url) == (
        "Japan and the EU launch a security dialogue", "The Japan Times", "2023-07-14", "")
    assert [(s.path, "metadata table" in s.reason and "2 files" in s.reason) for s in skipped] == [("METADATA.md", True)]


def test_a_csv_metadata_table_in_a_subfolder_describes_the_files_beside_it(tmp_path):
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "sources.csv").write_text(
        'file_name,title,date\nrelease.txt,"Council held, and chips agreed",2025-05-12\n', encoding="utf-8")
    (tmp_path / "captures" / "release.txt").write_text(CAPTURE, encoding="utf-8")
    (tmp_path / "release.txt").write_text(CAPTURE.replace("third", "fourth"), encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    titles = {d.doc_id: d.title for d in documents}
    assert titles == {"captures/release.txt": "Council held, and chips agreed", "release.txt": "Skip to main content"}
    assert [s.path for s in skipped] == ["captures/sources.csv"]


def test_a_files_own_metadata_header_wins_over_a_metadata_table(tmp_path):
    (tmp_path / "METADATA.md").write_text(TABLE, encoding="utf-8")
    (tmp_path / "release.txt").write_text("---\ntitle: From the header\n---\n" + CAPTURE, encoding="utf-8")

    (document,), _ = read_corpus(tmp_path)

    assert (document.title, document.date) == ("From the header", "2025-05-12")


def test_a_document_holding_a_table_of_other_files_stays_a_document(tmp_path):
    (tmp_path / "inventory.md").write_text(TABLE, encoding="utf-8")  # lists no file of this folder
    (tmp_path / "notes.txt").write_text(CAPTURE, encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["inventory.md", "notes.txt"]
    assert documents[1].title == "Skip to main content"
    assert skipped == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds beside the repository")
def test_the_seed_folder_is_read_with_its_metadata_table():
    documents, skipped = read_corpus(SEEDS)

    known = {d.doc_id: (d.title, d.publisher, d.date) for d in documents}
    assert sorted(known) == sorted(path.name for path in SEEDS.glob("*.txt"))
    assert known["001_59ee22b880ab6290.txt"] == (
        "EU and Japan strengthen technological and digital cooperation", "European Commission", "2025-05-12")
    assert known["002_76a23f020435f298.txt"][1:] == ("The Japan Times", "2023-07-14")
    assert not known["002_76a23f020435f298.txt"][0].startswith("(")  # the table's note, not a title
    assert [s.path for s in skipped] == ["METADATA.md"]


def test_cp1252_text_is_decoded(tmp_path):
    text = "Café “quoted” – naïve résumé costs €5."
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode("cp1252"))

    assert read_document(path).text == text


@pytest.mark.parametrize("encoding", ["shift_jis", "euc_jp", "utf-16", "utf-32", "utf-8-sig"])
def test_japanese_text_in_other_encodings_is_decoded(tmp_path, encoding):
    text = ("日本とEUは、半導体、人工知能、データの自由な流通について協力することで合意した。"
            "第3回デジタルパートナーシップ閣僚会合は2025年5月12日に東京で開催された。\n") * 3
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(text.encode(encoding))

    assert read_document(path).text == text.strip()


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "server.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: 20 MB that take no disk
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read a file over the limit"))

    with pytest.raises(UnreadableDocument, match=r"server\.txt: 20 MB is larger than the 20 MB limit"):
        read_document(path)


def test_a_file_that_disappeared_is_skipped_by_name(tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\n" + BODY, encoding="utf-8")
    (tmp_path / "gone.md").symlink_to(tmp_path / "deleted-while-listing.md")  # listed, then not there to read

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["good.md"]
    assert [s.path for s in skipped] == ["gone.md"] and "gone.md: cannot read the file" in skipped[0].reason


def test_invalid_yaml_header_is_unreadable(tmp_path):
    path = tmp_path / "bad-header.md"
    path.write_text("---\ntitle: [unclosed\n---\nBody.\n", encoding="utf-8")

    with pytest.raises(UnreadableDocument, match="bad-header.md"):
        read_document(path)


# --- HTML ----------------------------------------------------------------------------------------


def test_html_text_is_extracted_without_scripts_and_navigation(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")

    document = read_document(path)

    assert document.title == "Council report on quantum cooperation"
    for expected in (
        "Quantum cooperation announced",
        "Key outcomes",
        "deepen their cooperation on quantum technology",
        "Joint research call on quantum computing applications.",
        "Exchange of researchers between national laboratories.",
    ):
        assert expected in " ".join(document.text.split())
    assert "SCRIPT-SECRET" not in document.text
    assert "console.log" not in document.text
    assert "Home" not in document.text  # the navigation menu is not content
    assert "<p>" not in document.text and "<li>" not in document.text
    # the list items are on lines of their own, so the chunker sees them as items
    assert any(line.lstrip("-• ").startswith("Joint research call") for line in document.text.splitlines())


def test_htm_suffix_uses_the_html_reader(tmp_path):
    path = tmp_path / "page.htm"
    path.write_text(HTML, encoding="utf-8")

    assert "SCRIPT-SECRET" not in read_document(path).text


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_pages_are_separated_by_form_feeds(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(PDF_PAGES, title="Council report"))

    document = read_document(path)

    pages = document.text.split(PAGE_BREAK)
    assert len(pages) == 3
    for page, lines in zip(pages, PDF_PAGES):
        for line in lines:
            assert line in page
    assert document.title == "Council report"
    assert document.date == "2024-04-30"


def test_pdf_without_metadata_takes_its_title_from_the_text(tmp_path):
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf(PDF_PAGES[:2]))

    document = read_document(path)

    assert document.text.count(PAGE_BREAK) == 1
    assert document.title == "Joint statement of the council."


# --- files that cannot be read -------------------------------------------------------------------

BAD_FILES = {
    "gzip-junk": ("junk.txt", gzip.compress(b"not text at all " * 50, mtime=0)),
    "random-junk": ("noise.txt", random.Random(0).randbytes(4096)),
    "empty": ("empty.md", b""),
    "whitespace-only": ("blank.txt", b" \n\n\t \n"),
    "broken-pdf": ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf at all\n%%EOF\n"),
    "truncated-pdf": ("truncated.pdf", make_pdf(PDF_PAGES)[:300]),
    "empty-pdf": ("empty.pdf", b""),
    "docx": ("report.docx", b"PK\x03\x04 pretend this is a Word file"),
    "no-suffix": ("README", b"Some text without a suffix."),
    # YAML reads these as dates and times no calendar has, or recurses once per bracket: ValueError, RecursionError
    "impossible-date-header": ("feb30.md", b"---\ndate: 2025-02-30\n---\nText about chips.\n"),
    "impossible-time-header": ("hour25.md", b"---\ndate: 2025-05-12 25:00:00\n---\nText about chips.\n"),
    "deeply-nested-header": ("nested.md", b"---\ntitle: " + b"[" * 5000 + b"]" * 5000 + b"\n---\nText.\n"),
}


@pytest.mark.parametrize("name, data", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_read_document_refuses_unreadable_files(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)

    with pytest.raises((UnsupportedFormat, UnreadableDocument)) as raised:
        read_document(path)

    assert name in str(raised.value)  # the message names the file


def test_binary_junk_without_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "encrypted.txt"
    path.write_bytes(bytes(b for b in random.Random(1).randbytes(600) if b))

    with pytest.raises(UnreadableDocument, match="encrypted.txt"):
        read_document(path)


def test_unsupported_suffix_raises_unsupported_format(tmp_path):
    path = tmp_path / "report.odt"
    path.write_bytes(b"PK\x03\x04")

    with pytest.raises(UnsupportedFormat, match=r"report\.odt.*\.txt"):
        read_document(path)


@pytest.mark.parametrize("name, data", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_read_corpus_skips_a_bad_file_and_keeps_the_good_ones(tmp_path, name, data):
    (tmp_path / "good.md").write_text("# Good\n\n" + BODY, encoding="utf-8")
    (tmp_path / "also-good.txt").write_text("Another readable document.\n", encoding="utf-8")
    (tmp_path / name).write_bytes(data)

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["also-good.txt", "good.md"]
    assert len(skipped) == 1
    assert isinstance(skipped[0], Skipped)
    assert skipped[0].path == name
    assert name in skipped[0].reason


def test_read_corpus_skips_every_bad_file_at_once(tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\n" + BODY, encoding="utf-8")
    for name, data in BAD_FILES.values():
        (tmp_path / name).write_bytes(data)

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["good.md"]
    assert sorted(s.path for s in skipped) == sorted(name for name, _ in BAD_FILES.values())


def test_duplicate_content_is_indexed_once(tmp_path):
    (tmp_path / "a-original.md").write_text(BODY, encoding="utf-8")
    (tmp_path / "b-copy.md").write_text(BODY, encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["a-original.md"]
    assert [s.path for s in skipped] == ["b-copy.md"]
    assert "a-original.md" in skipped[0].reason


def test_hidden_files_and_folders_are_ignored(tmp_path):
    (tmp_path / "visible.md").write_text(BODY, encoding="utf-8")
    (tmp_path / ".upload-in-progress.md").write_text("Half written upload.", encoding="utf-8")
    (tmp_path / ".drafts").mkdir()
    (tmp_path / ".drafts" / "draft.md").write_text("A private draft.", encoding="utf-8")

    documents, skipped = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["visible.md"]
    assert skipped == []


def test_documents_in_subfolders_get_posix_ids(tmp_path):
    (tmp_path / "2025" / "may").mkdir(parents=True)
    (tmp_path / "2025" / "may" / "council.md").write_text(BODY, encoding="utf-8")

    documents, _ = read_corpus(tmp_path)

    assert [d.doc_id for d in documents] == ["2025/may/council.md"]


def test_a_bad_file_in_a_subfolder_is_skipped_by_its_path_in_the_corpus(tmp_path):
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "empty.md").write_bytes(b"")

    _, skipped = read_corpus(tmp_path)

    assert skipped[0].reason.startswith("2025/empty.md: ")  # not just "empty.md": which one?


@pytest.mark.parametrize(
    "text, title, date",
    [
        ("Short line\nAnother short line\n\n\n\nThe body of the text.", "Short line", ""),  # blank lines in a row
        ("Brussels, 1 ſept 2020 - The body of the text.", "Brussels, 1 ſept 2020 - The body of the text.", "2020-09-01"),
    ],
    ids=["blank-lines-in-a-row", "long-s-in-a-month"],  # both once raised (IndexError, StopIteration)
)
def test_a_title_and_date_are_found_in_text_that_once_broke_them(tmp_path, text, title, date):
    path = tmp_path / "odd.txt"
    path.write_text(text, encoding="utf-8")

    document = read_document(path)

    assert (document.title, document.date) == (title, date)


def test_every_format_in_one_corpus(tmp_path):
    (tmp_path / "a.txt").write_text("Plain text about chips.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Markdown\n\nText about cables.\n", encoding="utf-8")
    (tmp_path / "c.html").write_text(HTML, encoding="utf-8")
    (tmp_path / "d.pdf").write_bytes(make_pdf(PDF_PAGES))

    documents, skipped = read_corpus(tmp_path)

    assert skipped == []
    assert [d.doc_id for d in documents] == ["a.txt", "b.md", "c.html", "d.pdf"]
    assert all(isinstance(d, Document) and d.text and d.title for d in documents)
    assert len({d.sha256 for d in documents}) == 4
