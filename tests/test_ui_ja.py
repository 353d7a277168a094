"""The page in the browser's language, in headless Chromium against the real app on localhost: a Japanese browser
gets Japanese labels, filters, example questions and the documents page (and an answer to a Japanese question);
an English or a French one gets the page in English. Plus the table of words itself: every language has them all."""

from __future__ import annotations

import sys

import pytest
from conftest import REPOSITORY, ask_in_browser, errors_shown

from qa import ui_text

sys.path.insert(0, str(REPOSITORY))
import app  # noqa: E402
from bench.coldstart import free_port  # noqa: E402

TIMEOUT_MS = 60_000
JA, EN = ui_text.JA, ui_text.EN
# What the page shows where the table says so: (element, key). Labels and placeholders, filters, help, headings.
CHAT_PAGE = [("#since", "since"), ("#until", "until"), ("#publishers", "publishers"), ("#documents", "documents"),
             ("#examples-{language}", "examples")]
DOCUMENTS_PAGE = [("#upload", "add_documents"), ("#add", "add"), ("#doomed", "doomed"), ("#remove", "remove"),
                  ("#status", "status")]


@pytest.fixture(scope="module")
def url(index_dir):
    """The real app over the bundled corpus and the session's index, without an admin password: nothing here can
    change them."""
    app.load_index(REPOSITORY / "corpus", index_dir)
    demo = app.launch(app.build_demo(REPOSITORY / "corpus", index_dir, password=""), server_name="127.0.0.1",
                      server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url.rstrip("/")
    demo.close()


@pytest.fixture
def open_page(browser, url):
    """open_page(locale, path) -> a tab on the app as a browser set to that language sees it."""
    contexts = []

    def open_page(locale: str, path: str = "/"):
        context = browser.new_context(locale=locale, extra_http_headers={"Accept-Language": f"{locale},en;q=0.5"})
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(url + path)
        return tab

    yield open_page
    for context in contexts:
        context.close()


def shown(tab) -> str:
    """The page's text once Gradio has translated it (the chat page's filters or the documents page's status)."""
    tab.locator("#since, #status").first.wait_for()
    tab.wait_for_function("document.documentElement.lang.length > 0")
    return tab.locator("body").inner_text()


def test_every_language_has_every_word_and_example_questions():
    for language, words in ui_text.TEXT.items():
        assert words.keys() == EN.keys(), language
        assert all(text.strip() for text in words.values()), language
        assert len(ui_text.EXAMPLES[language]) >= 3, language
    assert app.I18N.translations_dict["ja"]["qa.since"] == JA["since"]


def test_a_japanese_browser_gets_the_chat_in_japanese(open_page):
    tab = open_page("ja-JP")
    text = shown(tab)

    assert tab.evaluate("document.documentElement.lang") == "ja"
    assert JA["title"] in tab.locator("h1").inner_text() and JA["description"] in text
    assert tab.locator("#question textarea").get_attribute("placeholder") == JA["question"]
    for selector, key in CHAT_PAGE:
        assert JA[key] in tab.locator(selector.format(language="ja")).inner_text(), key
    assert JA["filters"].lstrip("# ") in text and "qa eval" in text and "回帰テスト" in text
    for question in ui_text.EXAMPLES["ja"]:
        assert tab.get_by_text(question, exact=True).is_visible()
    assert not tab.locator("#examples-en").is_visible()
    assert "__i18n__" not in text and "From" not in text and "Publishers" not in text


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_any_other_browser_gets_the_chat_in_english(open_page, locale):
    tab = open_page(locale)
    text = shown(tab)

    assert f"{EN['title']}\n" in text and EN["description"] in text
    assert tab.locator("#question textarea").get_attribute("placeholder") == EN["question"]
    for selector, key in CHAT_PAGE:
        assert EN[key] in tab.locator(selector.format(language="en")).inner_text(), key
    for question in ui_text.EXAMPLES["en"]:
        assert tab.get_by_text(question, exact=True).is_visible()
    assert not tab.locator("#examples-ja").is_visible()
    assert "__i18n__" not in text and JA["since"] not in text
    assert tab.title() == app.TITLE


def test_a_japanese_example_question_is_asked_and_answered(open_page):
    tab = open_page("ja-JP")
    shown(tab)
    question = ui_text.EXAMPLES["ja"][0]
    tab.get_by_text(question, exact=True).click()
    # the question itself in the box, not a translation key
    tab.wait_for_function(f"() => document.querySelector('#question textarea').value === {question!r}")

    reply = ask_in_browser(tab, question)

    assert reply[0].inner_text().strip()
    assert errors_shown(tab) == 0
    assert tab.get_by_role("button", name="いいね").count() > 0  # Gradio's own words are in Japanese too


def test_a_japanese_browser_gets_the_documents_page_in_japanese(open_page):
    tab = open_page("ja-JP", "/documents")
    text = shown(tab)

    assert JA["documents_help"].removeprefix("## 文書\n") in text
    for selector, key in DOCUMENTS_PAGE:
        assert JA[key] in tab.locator(selector).inner_text(), key
    assert "__i18n__" not in text and "Add and index" not in text
    assert "QA_ADMIN_PASSWORD（12文字以上）" in tab.locator("#writes-off").inner_text()  # why, and how to turn it on

    tab.locator("#add").click()  # refused on the server, with the app's own message, in Japanese
    tab.wait_for_function("() => document.querySelector('#status textarea').value.length > 0")
    assert tab.locator("#status textarea").input_value() == JA["writes_off"]
    tab.locator("#remove").click()
    tab.wait_for_function(f"() => document.querySelector('#status textarea').value === {JA['writes_off']!r}")


def test_an_english_browser_gets_the_documents_page_in_english(open_page):
    tab = open_page("en-US", "/documents")
    text = shown(tab)

    assert "## " not in text and EN["documents_help"].removeprefix("## Documents\n") in text
    for selector, key in DOCUMENTS_PAGE:
        assert EN[key] in tab.locator(selector).inner_text(), key
    assert "set QA_ADMIN_PASSWORD" in tab.locator("#writes-off").inner_text()
    tab.locator("#add").click()
    tab.wait_for_function(f"() => document.querySelector('#status textarea').value === {EN['writes_off']!r}")


def test_a_document_no_longer_in_the_index_says_so_in_japanese(open_page):
    tab = open_page("ja-JP", "/document?doc=gone.md")

    tab.get_by_text(JA["not_in_index"]).wait_for()
    assert "__i18n__" not in tab.locator("#document-view").inner_text()
