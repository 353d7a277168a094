"""The web chat: the real app on localhost, over the real index, asked through gradio_client."""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from gradio_client import Client

from qa.answer import NOTHING_FOUND, Answer
from qa.retrieve import Passage

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # app.py is a script at the repository root, not part of the package
import app  # noqa: E402

PASSAGE = Passage(
    text="Intro. <script>alert(1)</script> is what the page said. The end.",
    score=0.5,
    doc_id="evil",
    title="Evil <b>title</b>",
    publisher="Publisher & Sons",
    date="2025-01-01",
    url="https://example.org/?a=1&b=<2>",
    start=0,
    end=64,
    location="paragraph 2",
    highlight=(7, 55),
    relevance=0.9,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def url(index_dir):
    """The real app, serving the session's index on a free local port."""
    app.load_index(REPOSITORY / "corpus", index_dir)
    demo = app.build_demo(REPOSITORY / "corpus", index_dir)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def client(url) -> Client:
    return Client(url, verbose=False)


def ask(client: Client, question: str) -> str:
    return client.predict(question, api_name="/ask")


def test_answers_with_a_cited_highlighted_source(client):
    reply = ask(client, "Who co-chaired the third Digital Partnership Council?")
    assert "Henna Virkkunen" in reply
    assert "EU and Japan strengthen technological and digital cooperation" in reply
    assert "[1]" in reply and "<mark>" in reply


def test_says_when_nothing_answers(client):
    reply = ask(client, "What is the recipe for a classic margherita pizza?")
    assert NOTHING_FOUND in reply
    assert "Closest passages (low confidence)" in reply
    assert "<mark>" not in reply


@pytest.mark.parametrize("question", ["", "   ", "?!"], ids=["empty", "spaces", "symbols"])
def test_a_question_without_words_gets_a_friendly_message(client, question):
    reply = ask(client, question)
    assert reply.startswith("<p>⚠️") and "question" in reply
    assert "Traceback" not in reply


def test_the_question_is_escaped(client):
    reply = ask(client, "<script>alert(1)</script>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply
    assert "<script" not in reply.lower()


def test_format_answer_escapes_document_text_and_marks_the_quote():
    reply = app.format_answer(Answer("Who?", f"{PASSAGE.quote} [1]", (PASSAGE,)))
    assert "<script" not in reply and "<b>" not in reply
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt; is what the page said.</mark>" in reply
    assert "Evil &lt;b&gt;title&lt;/b&gt;" in reply and "Publisher &amp; Sons, 2025-01-01, paragraph 2" in reply
    assert 'href="https://example.org/?a=1&amp;b=&lt;2&gt;"' in reply


def test_format_answer_when_abstaining_shows_closest_passages_unmarked():
    closest = replace(PASSAGE, url="javascript:alert(1)")
    reply = app.format_answer(Answer("<i>pizza</i>?", NOTHING_FOUND, (), (closest,)))
    assert NOTHING_FOUND in reply and "&lt;i&gt;pizza&lt;/i&gt;?" in reply
    assert "Closest passages (low confidence)" in reply
    assert "<mark>" not in reply and "<script" not in reply
    assert "href" not in reply  # only http(s) links to originals
