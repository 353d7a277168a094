"""No input breaks anything: generated questions, filters, files and upload names give a result or a QAError
whose message says what to do, never another exception (property-based, with Hypothesis)."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import math
import re
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from test_documents import HTML, PDF_PAGES, make_pdf

import qa
from qa import config, render
from qa.chunks import chunk_document
from qa.text import sentence_spans, split_sentences
from qa.cli import main
from qa.corpus import add_file
from qa.documents import MAX_TITLE_CHARS, SUFFIXES, Document, dateline, own_title, read_corpus, read_document
from qa.errors import BadFilter, QAError, UnreadableDocument, UnsupportedFormat
from qa.filters import Filters

# Examples per property: answer() and retrieve() run the real model, 50-500 ms a call (more on a busy machine)
MODEL_EXAMPLES = 100
PURE_EXAMPLES = 1000
FILE_EXAMPLES = 300


def examples(count: int) -> settings:
    """count examples, however slow each is; the fixtures are session-wide, so sharing them across examples is fine.
    No example database: the failures found are pinned with @example instead, and nothing is written to the tree."""
    return settings(max_examples=count, deadline=None, database=None, suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


# --- what people (and pasted text) type --------------------------------------------------------------

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u200e", "\u200f", "\u202a", "\u202b",
             "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"]
CONTROLS = [chr(c) for c in (*range(0, 32), *range(0x7F, 0xA0))]
WHITESPACE = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u1680", "\u2000", "\u2003", "\u2028", "\u2029",
              "\u202f", "\u205f", "\u3000", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"]
FRAGMENTS = [
    # words the corpus holds, so that some generated questions reach passages and the answer's composition
    "Digital Partnership Council", "semiconductors", "When was", "Who co-chaired", "the third", "Tokyo", "Brussels",
    "data flows with trust", "DFFT", "quantum", "submarine cables", "AI", "EU", "Japan", "2025", "May 12",
    # stop words, numbers, ordinals, money
    "what is it?", "the of and", "a", "it", "?", "the 28th 2025 1,000", "2.5", "1st", "second", "tenth",
    "how much money", "€1 billion", "¥", "$", "100%", "0", "-1", "1e999", "NaN", "∞",
    # other scripts, emoji, combining marks
    "日本とEUのデジタルパートナーシップ", "半導体", "ＥＵ", "２０２５年", "الاتحاد الأوروبي", "Евросоюз", "Ελλάδα",
    "हिन्दी", "한국어", "ไทย", "😀", "🇪🇺🇯🇵", "👩‍👩‍👧", "e\u0301", "\u0301\u0301\u0301", "ﷺ", "ǅ", "ß", "İı", "ſ",
    # markup, code and injection
    "<script>alert(1)</script>", "<b>bold</b>", "**bold**", "# heading", "- item", "1. item", "[1]", "[link](x)",
    "`code`", "{{7*7}}", "${x}", "%s%n", "' OR 1=1 --", "'; DROP TABLE chunks; --", '"', "\\", "\\u0000", "&amp;",
    "../../etc/passwd", "C:\\Windows", "NULL", "None", "undefined", "true", "|", "---", "***", "\f",
    # dates as documents and questions write them, and small talk
    "23 January 2019", "May 1, 2024", "1st May 2024", "2024-05-01", "31 February 2024", "ſept", "Brussels,", "hi",
    "thanks!", "help", "hello there", "bye",
]
scripted = st.lists(
    st.sampled_from(FRAGMENTS) | st.sampled_from(INVISIBLE + CONTROLS + WHITESPACE) | st.text(max_size=8),
    max_size=12,
).map(" ".join)
huge = st.builds(lambda piece, times: piece * times, scripted | st.sampled_from(FRAGMENTS),
                 st.integers(min_value=200, max_value=2000)).map(lambda text: text[:20_000])
ANSWERABLE = [
    "Who co-chaired the third Digital Partnership Council?", "What did the EU and Japan agree on semiconductors?",
    "When will the fourth Digital Partnership Council take place?", "What is DFFT?", "And the second one?",
]


@st.composite
def noisy(draw) -> str:
    """A question the documents answer, with odd characters, words or markup put anywhere in it."""
    question = draw(st.sampled_from(ANSWERABLE))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(question)))
        noise = draw(st.sampled_from(INVISIBLE + CONTROLS + WHITESPACE + FRAGMENTS) | st.text(max_size=3))
        question = question[:at] + noise + question[at:]
    return question


questions = st.one_of(
    noisy(),
    st.text(),  # any code point but surrogates
    st.text(st.sampled_from(INVISIBLE + CONTROLS + WHITESPACE)),  # nothing to read
    scripted,
    scripted,
    huge,
)
ks = st.integers(min_value=1, max_value=12)  # k below 1: test_k_below_one_gives_no_passages_or_says_what_to_do
histories = st.lists(questions, max_size=3)


def tally(kind: str) -> None:
    """Count what the examples gave (pytest --hypothesis-show-statistics shows it): answers, abstentions, errors."""
    if currently_in_test_context():
        event(kind)


def check_passages(passages, index, k: int) -> None:
    assert isinstance(passages, (list, tuple))
    assert len(passages) <= max(k, 0)
    for passage in passages:
        assert isinstance(passage, qa.Passage)
        document = index.documents[passage.doc_id]
        assert 0 <= passage.start < passage.end <= len(document.text)
        assert document.text[passage.start : passage.end] == passage.text
        assert 0 <= passage.highlight[0] <= passage.highlight[1] <= len(passage.text)
        assert math.isfinite(passage.score) and math.isfinite(passage.relevance)
        assert passage.citation


def check_answer(result, index, k: int) -> None:
    assert isinstance(result, qa.Answer)
    tally("small talk" if result.small_talk else "abstained" if result.abstained else "answered")
    assert isinstance(result.text, str) and result.text.strip()
    assert all(isinstance(part, str) for part in (result.question, result.notice, result.corrected, result.follows))
    check_passages(result.passages, index, k)
    check_passages(result.closest, index, k)
    if result.abstained or result.small_talk:
        assert result.passages == ()


def check_error(error: QAError) -> None:
    tally(type(error).__name__)
    assert str(error).strip(), f"{type(error).__name__} without a message"
    assert render.error_block(error)  # what the chat and /ask show instead


def check_shown(result, index) -> None:
    """What the chat, the /ask API and qa ask make of an answer: HTML, quotes, the document view, plain text, JSON."""
    assert isinstance(render.answer_html(result), str)
    assert isinstance(render.plain(result.text), str)
    for passage in result.passages or result.closest:
        assert isinstance(render.quotation(passage), str)
        document = index.documents[passage.doc_id]
        mark = (passage.start + passage.highlight[0], passage.start + passage.highlight[1])
        assert isinstance(render.document_html(document, passage.start, passage.end, *mark), str)
    json.dumps([result.question, result.text, result.notice, [asdict(p) for p in result.passages]], ensure_ascii=False)


# --- answer() and retrieve() -------------------------------------------------------------------------


@examples(MODEL_EXAMPLES)
@given(question=questions, k=ks)
@example(question="what is it?", k=5)
@example(question="the of and", k=5)
@example(question="the 28th 2025 1,000", k=5)
@example(question="\u200b\u200c\u200d\ufeff", k=5)
@example(question="semiconductors " * 1500, k=5)
@example(question="1 ſept 2020", k=5)
def test_answer_gives_an_answer_or_says_what_to_do(index, question, k):
    try:
        result = qa.answer(question, k, index=index)
    except QAError as error:
        check_error(error)
    else:
        check_answer(result, index, k)
        check_shown(result, index)


@examples(MODEL_EXAMPLES)
@given(question=questions, k=ks)
@example(question="what is it?", k=5)
@example(question="\x00\u202e<script>", k=1)
def test_retrieve_gives_passages_or_says_what_to_do(index, question, k):
    try:
        passages = qa.retrieve(question, k, index=index)
    except QAError as error:
        check_error(error)
    else:
        check_passages(passages, index, k)


@pytest.mark.parametrize("k", [0, -1, -3])
def test_k_below_one_gives_no_passages_or_says_what_to_do(index, k):
    """answer(k=-1) returned found[:-1], four passages (issue 18); now a BadQuestion."""
    question = "Who co-chaired the third Digital Partnership Council?"
    for call, check in ((qa.answer, check_answer), (qa.retrieve, check_passages)):
        try:
            result = call(question, k, index=index)
        except QAError as error:
            check_error(error)
        else:
            check(result, index, k)


@examples(MODEL_EXAMPLES // 3)
@given(question=questions, history=histories)
@example(question="And the second?", history=["Who co-chaired the third Digital Partnership Council?"])
@example(question="And the second?", history=["", "\u200b", "what is it?"])
def test_answer_and_retrieve_with_a_history_give_a_result_or_say_what_to_do(index, question, history):
    try:
        result = qa.answer(question, index=index, history=history)
    except QAError as error:
        check_error(error)
    else:
        check_answer(result, index, 5)
        check_shown(result, index)
    try:
        passages = qa.retrieve(question, index=index, history=history)
    except QAError as error:
        check_error(error)
    else:
        check_passages(passages, index, 5)


@examples(MODEL_EXAMPLES // 4)
@given(question=questions.filter(lambda text: "\x00" not in text), k=ks, as_json=st.booleans())
@example(question="--help", k=5, as_json=False)
@example(question="-k", k=5, as_json=True)
@example(question="what is it?", k=5, as_json=True)
def test_qa_ask_answers_or_prints_one_line_saying_what_to_do(workspace, embedder, monkeypatch, question, k,
                                                            as_json):
    monkeypatch.setattr(config, "embedder", lambda *args, **kwargs: embedder)  # the session's model, loaded once

    # after "--", the question is the question even when it looks like an option; argv cannot hold a NUL
    result = CliRunner().invoke(main, ["ask", "-k", str(k), *(["--json"] if as_json else []), "--", question],
                                env=workspace)

    tally(f"exit code {result.exit_code}")
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 1:
        assert result.output.startswith("Error: ") and result.output.strip() != "Error:"
    elif as_json:
        assert json.loads(result.stdout)["answer"]
    else:
        assert result.stdout.strip()


# --- filters ---------------------------------------------------------------------------------------

dates = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.from_regex(r"\A[0-9０-９٠-٩]{1,5}(-[0-9]{1,3}(-[0-9]{1,3})?)?\Z"),
    st.dates().map(str),
    st.builds(lambda day, length: str(day)[:length], st.dates(), st.sampled_from([4, 7, 10])),
    st.sampled_from(["2025", "2025-05", "2025-05-12", "2025-02-30", "2025-13", "0000", "9999-12-31", " 2024 ",
                     "2024-5", "May 2025", "12/05/2025", "2025-05-12T10:00", "-2025", "2025-00", "２０２５"]),
)
plain_dates = st.sampled_from(["2022", "2023-07", "2024-05-01", "2025", "2025-12-31"])
names = st.one_of(
    st.none(),
    questions,
    st.lists(questions | st.sampled_from(["European Commission", "Digital Agency", ""]), max_size=4),
    st.sampled_from(sorted(path.name for path in CORPUS.iterdir())).map(lambda name: [name]),
)


@examples(PURE_EXAMPLES)
@given(since=dates, until=dates, publishers=names, documents=names)
@example(since="2025-02-30", until=None, publishers=None, documents=None)
@example(since="2026", until="2025", publishers=None, documents=None)
def test_filters_are_made_or_refused_with_a_bad_filter(since, until, publishers, documents):
    try:
        filters = Filters.of(since, until, publishers, documents)
    except BadFilter as error:
        check_error(error)
    else:
        assert isinstance(filters, Filters)
        assert all(isinstance(name, str) and name for name in (*filters.publishers, *filters.documents))


@pytest.mark.parametrize("since", ["２０２５", "٢٠٢٥", "2025-０５"], ids=["full-width", "arabic-indic", "mixed"])
def test_a_date_in_other_digits_is_read_as_that_date_or_refused(since):
    """Filters compare dates as text with documents' ISO dates: "２０２５-01-01" would let no document through
    (issue 18); now read as the same date."""
    try:
        filters = Filters.of(since)
    except BadFilter as error:
        check_error(error)
    else:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", filters.first_day), filters.first_day


@examples(MODEL_EXAMPLES)
@given(question=noisy() | questions, since=st.none() | plain_dates | dates, until=st.none() | plain_dates | dates,
       publishers=st.none() | names, documents=st.none() | names)
def test_answer_with_any_filters_gives_an_answer_or_says_what_to_do(index, question, since, until, publishers,
                                                                    documents):
    try:
        result = qa.answer(question, index=index, since=since, until=until, publishers=publishers,
                           documents=documents)
    except QAError as error:
        check_error(error)
    else:
        check_answer(result, index, 5)
        filters = Filters.of(since, until, publishers, documents)
        assert all(filters.allows(index.documents[passage.doc_id]) for passage in result.passages)


# --- document readers ------------------------------------------------------------------------------


def blank_pdf() -> bytes:
    """A PDF as PyMuPDF makes it: a blank page and metadata, no text."""
    import pymupdf

    with pymupdf.open() as document:
        document.new_page(width=200, height=200)
        document.set_metadata({"title": "Blank", "creationDate": "D:20250512000000Z"})
        return document.tobytes()


RENDERED = Path(__file__).parent.parent / "bench" / "formats"  # the bundled documents as Word, PowerPoint and PDF


REAL_FILES = {path.name: path.read_bytes() for path in sorted(CORPUS.iterdir())} | {
    "report.pdf": make_pdf(PDF_PAGES, title="Council report"),
    "blank.pdf": blank_pdf(),
    "statement.docx": (RENDERED / "docx" / "2025-05-12-third-digital-partnership-council.docx").read_bytes(),
    "deck.pptx": (RENDERED / "pptx" / "2025-10-15-digital-agency-future-prospects.pptx").read_bytes(),
    "printed.pdf": (RENDERED / "libreoffice-pdf" / "2025-05-12-third-digital-partnership-council.pdf").read_bytes(),
    "page.html": HTML.encode(),
    "METADATA.md": b"| file | title | date |\n| --- | --- | --- |\n| page.html | A page | 2025-05-12 |\n",
    "metadata.csv": b"file,title,publisher,date\npage.html,A page,EU,2025-05-12\n",
}
SUFFIX_CHOICES = [*SUFFIXES, ".csv", ".MD", ".Txt", ".docx", ".json", ""]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "shift_jis", "euc-jp", "cp1252",
             "latin-1", "gb18030", "koi8-r"]
YAML_LINES = [
    "title: A title", "publisher: European Commission", "date: 2025-05-12", "date: 2025-02-30",
    "date: 2025-05-12 25:00:00", "date: 2025-05-12 10:00:00 +99:00", "date: 0000-01-01", "date: [2025]",
    "title: [1, 2", "title: {a: b}", "title: !!python/object:os.system x", "title: &a [*a]", "title:", ":", "- a",
    "? [a]\n: b", "title: \"unclosed", "\ttitle: tab", "title: " + "[" * 2000 + "]" * 2000, "title: 1e999",
    "url: http://x", "language: 日本語", "title: \x85", "%YAML 9.9", "!!binary AAAA",
]
texts = st.one_of(
    st.text(),
    scripted,
    st.lists(st.sampled_from(FRAGMENTS) | st.sampled_from(["\n", "\n\n", "\r\n", "\f", "# ", "- ", "1. ", "    "]),
             max_size=60).map("".join),
    st.builds(lambda line, times: (line * times)[:100_000], scripted, st.integers(500, 5000)),  # huge lines
)
front_matters = st.lists(st.sampled_from(YAML_LINES) | st.text(max_size=20), min_size=0, max_size=5).map(
    lambda lines: "---\n" + "\n".join(lines) + "\n---\n"
)


def encoded(text: str, encoding: str) -> bytes:
    return codecs.encode(text, encoding, errors="replace")


@st.composite
def file_contents(draw) -> bytes:
    kind = draw(st.sampled_from(["random", "truncated", "mutated", "text", "front matter", "nul"]))
    if kind == "random":
        return draw(st.binary(max_size=4096))
    if kind in ("truncated", "mutated"):
        data = bytearray(REAL_FILES[draw(st.sampled_from(sorted(REAL_FILES)))])
        if kind == "truncated":
            return bytes(data[: draw(st.integers(0, len(data)))])
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    text = draw(texts)
    if kind == "front matter":
        text = draw(front_matters) + text
    if kind == "nul":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "\x00" + text[at:]
    return encoded(text, draw(st.sampled_from(ENCODINGS)))


def read(path: Path):
    """read_document's result, or the error it raised on purpose, which must name the file."""
    try:
        return read_document(path)
    except (UnreadableDocument, UnsupportedFormat) as error:
        check_error(error)
        assert path.name in str(error), f"the message does not name the file: {error}"
        return error


@examples(FILE_EXAMPLES)
@given(data=file_contents(), suffix=st.sampled_from(SUFFIX_CHOICES))
@example(data=b"A\nB\n\n\n\nC", suffix=".txt")  # an empty block after a run of short lines: own_title crashed
@example(data="1 ſep 2020 was the day".encode(), suffix=".txt")  # 'ſ' matches 's' ignoring case: _as_day crashed
@example(data=b"---\ndate: 2025-02-30\n---\nText.", suffix=".md")  # yaml raised ValueError, not YAMLError
@example(data=b"---\ndate: 2025-05-12 25:00:00\n---\nText.", suffix=".md")
@example(data=b"---\ntitle: " + b"[" * 5000 + b"]" * 5000 + b"\n---\nText.", suffix=".md")  # RecursionError
def test_a_file_is_read_or_refused_with_a_message_naming_it(tmp_path, data, suffix):
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(data)

    result = read(path)

    if isinstance(result, Document):
        assert result.text and result.text == result.text.strip()
        assert result.title and isinstance(result.title, str)
        assert all(isinstance(value, str) for value in (result.publisher, result.date, result.url, result.language))
        assert not result.date or len(result.date) >= 4


@examples(FILE_EXAMPLES // 5)
@given(files=st.dictionaries(st.sampled_from([f"{stem}{suffix}" for stem in ("a", "b", "sub/c", "METADATA")
                                              for suffix in SUFFIX_CHOICES]),
                             file_contents(), max_size=6),
       table=st.none() | st.lists(st.tuples(st.sampled_from(["a.md", "b.txt", "sub/c.html", "missing.md", "", "a"]),
                                            st.sampled_from(["", "A title", "(not captured)", "—", "`x`"]),
                                            dates), max_size=4))
def test_read_corpus_never_raises_for_a_bad_file_and_names_every_skipped_one(tmp_path_factory, files, table):
    folder = tmp_path_factory.mktemp("corpus")
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    if table is not None:
        rows = "".join(f"| {file} | {title} | {date or ''} |\n" for file, title, date in table)
        (folder / "TABLE.md").write_text("| file | title | date |\n| --- | --- | --- |\n" + rows, encoding="utf-8")

    documents, skipped = read_corpus(folder)

    every = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    assert {document.doc_id for document in documents} | {entry.path for entry in skipped} == every
    assert all(entry.path in entry.reason for entry in skipped)  # each reason names its file


@examples(PURE_EXAMPLES)
@given(text=texts)
@example(text="A\nB\n\n\n\nC")  # own_title: IndexError on the empty block between blank lines
@example(text="1 ſep 2020")  # dateline: StopIteration, the month's name not found again after .lower()
@example(text="Brussels, 31 February 2024 - text")
def test_any_text_gives_a_title_and_a_date_or_none(text):
    title, day = own_title(text), dateline(text)

    assert isinstance(title, str) and len(title) <= MAX_TITLE_CHARS
    assert day == "" or dt.date.fromisoformat(day).isoformat() == day


# --- chunking --------------------------------------------------------------------------------------


@examples(PURE_EXAMPLES)
@given(text=texts)
@example(text="A\nB\n\n\n\nC")
@example(text="\f\f\f")
@example(text="- \n- \n1.")
def test_chunks_keep_exact_offsets(text):
    document = Document(doc_id="d.md", text=text, title="T")

    chunks = chunk_document(document)

    end = 0
    for chunk in chunks:
        assert end <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.location
        for start, stop in sentence_spans(chunk.text):
            assert 0 <= start <= stop <= len(chunk.text)
        end = chunk.end
    for start, stop in split_sentences(text):
        assert 0 <= start < stop <= len(text)


# --- uploads ----------------------------------------------------------------------------------------

upload_names = st.one_of(
    st.text(),
    st.lists(st.sampled_from(["..", "/", "\\", ".", "~", "\x00", "etc", "passwd", "x", "日本", "\u202e", " ", "-",
                              ".md", ".txt", ".pdf", ".html", ".MD", ".exe"]) | st.text(max_size=5), max_size=8)
    .map("".join),
    st.builds(lambda stem, suffix: stem + suffix, st.text(min_size=200, max_size=400), st.sampled_from(SUFFIXES)),
    st.sampled_from(["../../x.md", "/etc/passwd.md", "..\\..\\x.txt", "", ".md", ".hidden.md", "x.md\x00.exe",
                     "CON.txt", "a/../../b.md", "\u202egpj.md", "🙂.md", "." * 300 + "md"]),
)
upload_data = st.one_of(file_contents(), st.just(b"The EU and Japan met in Tokyo.\n"))


@examples(FILE_EXAMPLES)
@given(name=upload_names, data=upload_data)
@example(name="../../x.md", data=b"The EU and Japan met in Tokyo.\n")
@example(name="x.md\x00.exe", data=b"The EU and Japan met in Tokyo.\n")
def test_an_upload_is_stored_inside_the_corpus_or_refused(tmp_path_factory, name, data):
    base = tmp_path_factory.mktemp("upload")
    corpus = base / "corpus"

    try:
        stored = add_file(corpus, name, data)
    except QAError as error:
        check_error(error)
        stored = None
    else:
        assert stored.parent.resolve() == corpus.resolve()
        assert not stored.name.startswith(".")
        assert stored.read_bytes() == data
    # nothing else anywhere: no draft left behind, nothing written beside or above the corpus
    assert [path for path in base.rglob("*") if path.is_file()] == ([stored] if stored else [])
    assert [path.name for path in base.iterdir()] in ([], ["corpus"])
