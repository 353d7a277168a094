"""The chat in a real browser: headless Chromium (Debian's package) driven by Playwright, against the
real app on localhost. HTML and JavaScript in documents and questions must show as text, never run."""

from __future__ import annotations

import shutil
import sys

import pytest
from conftest import CORPUS, REPOSITORY, ask_in_browser

from qa.build import build_index

sys.path.insert(0, str(REPOSITORY))
import app  # noqa: E402
from bench.coldstart import free_port  # noqa: E402

TIMEOUT_MS = 60_000

# Every way a document could try to run code in the page: in its metadata, its headings and its text.
HOSTILE = """---
title: "Arctic <img src=x onerror=\\"window.__pwned='title'\\"> cable <script>window.__pwned='title-script'</script>"
publisher: "<script>window.__pwned='publisher'</script>Cable & Co"
date: 2025-11-01
url: "javascript:window.__pwned='url'"
---
# Arctic data cable <script>window.__pwned='heading'</script>

The Arctic data cable between Hokkaido and Finland will be finished in 2031 <img src=x onerror="window.__pwned='body'"> according to its builders. It will carry research traffic <script>window.__pwned='body-script'</script> between the two regions <svg onload="window.__pwned='svg'"></svg> and <a href="javascript:window.__pwned='link'">a link</a>.
"""

@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory, embedder):
    """The app over the bundled corpus plus a document full of HTML and JavaScript."""
    base = tmp_path_factory.mktemp("hostile")
    corpus_dir = base / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    (corpus_dir / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    build_index(corpus_dir, base / "index", embedder=embedder)
    app.load_index(corpus_dir, base / "index")
    demo = app.build_demo(corpus_dir, base / "index")
    app.launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture
def page(browser, hostile_url):
    """A fresh tab on the chat that records any dialog and any script a page element manages to run."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto(hostile_url)
    yield tab
    context.close()


def test_a_document_with_html_and_javascript_is_shown_as_text(page):
    reply = ask_in_browser(page, "When will the Arctic data cable be finished?")

    text = "\n".join(message.inner_text() for message in reply)
    assert "2031" in text
    assert "<img src=x onerror=" in text  # the markup is visible, as characters
    assert "<script>window.__pwned='body-script'</script>" in text
    assert page.evaluate("window.__pwned") is None  # and none of it ran
    assert page.dialogs == []
    for message in reply:
        assert message.locator("script, img, svg, iframe").count() == 0
        assert message.locator("a[href^='javascript']").count() == 0


def test_the_document_view_shows_html_as_text_too(page):
    reply = ask_in_browser(page, "When will the Arctic data cable be finished?")
    source = next(message for message in reply[1:] if "Arctic data cable" in message.inner_text())

    with page.context.expect_page() as opened:
        source.get_by_role("link", name="Open in document").click()
    view = opened.value
    view.locator("#passage mark").wait_for()

    assert "<script>window.__pwned='body-script'</script>" in view.locator("#document-view").inner_text()
    assert view.evaluate("window.__pwned") is None
    assert view.locator("#document-view script, #document-view img, #document-view svg").count() == 0


def test_a_question_with_html_and_javascript_is_shown_as_text(page):
    question = """<img src=x onerror="window.__pwned='question'"><script>alert('question')</script> Arctic cable?"""

    reply = ask_in_browser(page, question)

    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.locator("[data-testid=user] img, [data-testid=user] script").count() == 0
    assert "<img src=x onerror=" in page.get_by_test_id("user").last.inner_text()  # shown as typed
    assert all(message.locator("img, script").count() == 0 for message in reply)
