"""Adding a document by its web address: fetched from a real HTTP server on localhost, stored, and cited by it."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from click.testing import CliRunner
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st
from test_documents import PDF_PAGES, make_pdf

from qa.cli import main
from qa.corpus import SOURCES, add_address, add_file, remove_file, sources
from qa.documents import read_corpus
from qa.errors import AlreadyInCorpus, FetchFailed
from qa.fetch import MAX_REDIRECTS, fetch
from qa.index import Index

PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Arctic cable survey</title></head>
<body><article>
<h1>Arctic cable survey</h1>
<p>The survey of the Arctic submarine cable route from Hokkaido to Finland found the seabed clear for 1,400 km.</p>
<p>Cable laying is expected to begin in the summer after the survey, weather permitting.</p>
</article></body></html>
"""
LANDING = PAGE.replace(b"1,400 km", b"900 km").replace(b"Hokkaido", b"Kyushu")
LIMIT = 50_000  # the size limit in these tests: the bodies below are larger, and one never ends
SLOW = 3.0  # seconds the slow pages wait; the tests' time-out is a tenth of that
QUICK = SLOW / 10


class Pages(BaseHTTPRequestHandler):
    """What the test server answers at each path."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/page.html":
            self.reply(200, "text/html; charset=utf-8", PAGE)
        elif path == "/landing":
            self.reply(200, "application/xhtml+xml", LANDING)
        elif path == "/moved":
            self.redirect("/landing")
        elif path.startswith("/loop/"):
            self.redirect(f"/loop/{int(path.rpartition('/')[2]) + 1}")
        elif path == "/to-ftp":
            self.redirect("ftp://127.0.0.1/file.pdf")
        elif path == "/report":
            self.reply(200, "application/pdf", make_pdf(PDF_PAGES, title="Council report"))
        elif path == "/notes.md":
            self.reply(200, "text/plain", b"# Notes\n\nThe council met in Tokyo.\n")
        elif path == "/logo.png":
            self.reply(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100))
        elif path == "/big":
            self.reply(200, "text/html", b"<p>" + b"x" * 2 * LIMIT + b"</p>")
        elif path == "/endless":  # no Content-Length: the body runs until the connection closes, here never
            self.endless()
        elif path == "/slow":
            time.sleep(SLOW)
            self.reply(200, "text/html", PAGE)
        elif path == "/stalls":  # the headers at once, then nothing
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.flush()
            time.sleep(SLOW)
        elif path == "/hangs-up":
            self.close_connection = True  # nothing sent at all
        else:
            self.reply(404, "text/html", b"<p>Not here.</p>")

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up waiting (the slow page), or stopped reading (the large one)
            pass

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 8192)
        except OSError:  # the client stopped reading and closed the connection
            pass

    def log_message(self, *args) -> None:  # quiet
        pass


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """A real HTTP server on localhost serving Pages, in a thread: its address."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    httpd.daemon_threads = True  # a slow page still waiting does not hold up the end
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving() as address:
        yield address


@pytest.fixture
def closed_port() -> int:
    """A port on localhost where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- fetch ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, name, final",
    [
        ("/page.html", "page.html", "/page.html"),
        ("/moved", "landing.html", "/landing"),
        ("/report", "report.pdf", "/report"),
        ("/notes.md", "notes.md", "/notes.md"),
    ],
    ids=["html", "redirect", "pdf", "markdown-as-text"],
)
def test_a_document_is_fetched_with_the_suffix_of_its_type_and_its_final_address(server, path, name, final):
    fetched = fetch(server + path, timeout=QUICK)

    assert (fetched.name, fetched.url) == (name, server + final)
    assert fetched.data


FAILURES = {
    "404": ("/missing", "404 Not Found from {server}/missing"),
    "image": ("/logo.png", "image/png is not a document the index can read"),
    "redirect-loop": ("/loop/0", f"redirects more than {MAX_REDIRECTS} times"),
    "redirect-to-ftp": ("/to-ftp", "redirects to an address that is not http:// or https://"),
    "content-length": ("/big", "{server}/big is 0.1 MB, larger than the 0.05 MB limit"),
    "no-content-length": ("/endless", "{server}/endless is larger than the 0.05 MB limit"),
    "slow": ("/slow", "No answer from 127.0.0.1 within 0.3 s"),
    "stalls": ("/stalls", "stopped sending for more than 0.3 s"),
    "hangs-up": ("/hangs-up", "closed the connection without a proper answer"),
}


@pytest.mark.parametrize("path, message", FAILURES.values(), ids=FAILURES.keys())
def test_what_cannot_be_fetched_is_refused_saying_why(server, path, message):
    started = time.monotonic()

    with pytest.raises(FetchFailed) as error:
        fetch(server + path, timeout=QUICK, max_bytes=LIMIT)

    assert message.format(server=server) in str(error.value)
    assert time.monotonic() - started < SLOW  # the slow pages are not waited for


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/report.pdf", "file:///etc/passwd", "corpus/report.pdf",
                                 "javascript:alert(1)"])
def test_only_http_and_https_addresses_are_fetched(url):
    with pytest.raises(FetchFailed, match="only http:// and https:// addresses"):
        fetch(url, timeout=QUICK)


def test_a_server_that_does_not_answer_is_named(closed_port):
    with pytest.raises(FetchFailed, match="Could not connect to 127.0.0.1 .*check the address"):
        fetch(f"http://127.0.0.1:{closed_port}/page.html", timeout=QUICK)


@settings(max_examples=100, deadline=None, database=None)
@given(text=st.text(max_size=40), where=st.sampled_from(["server", "server/", "nowhere"]))
def test_any_text_as_an_address_is_fetched_or_refused_with_fetch_failed(server, text, where):
    # with the network closed, only addresses on localhost (and text that is not an http address) are tried;
    # right after the server's address, text may change its port ("0": past 65535) or its host ("..")
    url = {"server": server + text, "server/": f"{server}/{text}", "nowhere": text}[where]
    if elsewhere(url):  # "http://127.0.0.1:8000@example.org" is example.org
        return
    try:
        fetched = fetch(url, timeout=QUICK, max_bytes=LIMIT)
    except FetchFailed as error:
        assert str(error)
    else:
        assert fetched.url.startswith("http://127.0.0.1:") and fetched.data


def elsewhere(url: str) -> bool:
    """Whether url is an http address of a host other than localhost."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError):
        return False
    return parsed.scheme in ("http", "https") and parsed.host not in ("", "127.0.0.1")


# --- storing it: add_address ----------------------------------------------------------------------


def test_an_added_page_is_stored_and_cited_by_its_address(server, tmp_path):
    stored = add_address(tmp_path, server + "/page.html")

    assert stored == tmp_path / "page.html" and stored.read_bytes() == PAGE
    assert sources(tmp_path) == {"page.html": server + "/page.html"}
    documents, skipped = read_corpus(tmp_path)
    assert [(d.doc_id, d.url) for d in documents] == [("page.html", server + "/page.html")]
    assert [s.path for s in skipped] == [SOURCES]  # read as what it says of page.html, not as a document


def test_a_redirected_page_is_cited_by_the_address_it_lands_on(server, tmp_path):
    stored = add_address(tmp_path, server + "/moved")

    assert sources(tmp_path) == {stored.name: server + "/landing"}


def test_an_address_added_twice_is_stored_once(server, tmp_path):
    first = add_address(tmp_path, server + "/page.html")

    with pytest.raises(AlreadyInCorpus, match=f"already in the corpus as .*{first.name}") as again:
        add_address(tmp_path, server + "/page.html")
    add_address(tmp_path, server + "/moved")
    with pytest.raises(AlreadyInCorpus):  # known by where it landed, as it is not recorded as given
        add_address(tmp_path, server + "/moved")

    assert again.value.path == first
    assert sorted(sources(tmp_path)) == ["landing.html", "page.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing.html", "page.html", SOURCES]


def test_other_rows_and_columns_of_the_sources_table_are_kept(server, tmp_path):
    add_file(tmp_path, "notes.md", b"# Notes\n\nThe council met in Tokyo.\n")
    (tmp_path / SOURCES).write_text("file,url,title\nnotes.md,https://example.org/notes,Council notes\n",
                                    encoding="utf-8")

    add_address(tmp_path, server + "/report")

    table = (tmp_path / SOURCES).read_text(encoding="utf-8").splitlines()
    assert table == ["file,url,title", "notes.md,https://example.org/notes,Council notes",
                     f"report.pdf,{server}/report,"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_removed_document_takes_its_address_with_it(server, tmp_path):
    stored = add_address(tmp_path, server + "/page.html")

    remove_file(tmp_path, stored.name)
    again = add_file(tmp_path, "page.html", LANDING)  # uploaded, not fetched

    assert again.name == "page.html" and sources(tmp_path) == {}
    assert not (tmp_path / SOURCES).exists()  # a table naming no file would be read as a document
    assert add_address(tmp_path, server + "/page.html").name == "page-2.html"  # it can be added again


def test_a_page_that_fails_to_be_fetched_stores_nothing(server, tmp_path):
    with pytest.raises(FetchFailed):
        add_address(tmp_path, server + "/logo.png")

    assert list(tmp_path.iterdir()) == []


# --- qa add ---------------------------------------------------------------------------------------


def test_qa_add_fetches_a_page_indexes_it_and_ask_cites_its_address(server, tmp_path):
    corpus = tmp_path / "corpus"  # one of the bundled documents, to keep the build short
    corpus.mkdir()
    shutil.copy(CORPUS / "2025-05-12-third-digital-partnership-council.md", corpus)
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index")}
    notes = tmp_path / "briefing.md"
    notes.write_text("# Briefing\n\nThe Kyushu data centre opened in March 2026.\n", encoding="utf-8")
    address = server + "/page.html"

    added = CliRunner().invoke(main, ["add", address, str(notes), server + "/missing", "ftp://127.0.0.1/x.pdf"],
                               env=env)

    assert added.exit_code == 1  # two of four failed, and the other two were still added and indexed
    assert f"added {corpus / 'page.html'} from {address}" in added.stdout
    assert f"added {corpus / 'briefing.md'} from {notes}" in added.stdout
    assert "  + page.html" in added.stdout and "  + briefing.md" in added.stdout  # built once, with both
    assert f"404 Not Found from {server}/missing" in added.stderr and "only http:// and https://" in added.stderr
    index = Index.load(tmp_path / "index")
    assert index.documents["page.html"].url == address
    assert index.documents["briefing.md"].url == ""

    asked = CliRunner().invoke(main, ["ask", "--json", "How far was the seabed of the Arctic cable route clear?"],
                               env=env)
    assert asked.exit_code == 0, asked.output
    passage = json.loads(asked.stdout)["passages"][0]
    assert (passage["doc_id"], passage["url"]) == ("page.html", address) and address in passage["citation"]

    again = CliRunner().invoke(main, ["add", address], env=env)
    assert again.exit_code == 0 and "already in the corpus as" in again.stderr and "added" not in again.stdout
