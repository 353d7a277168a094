"""Shared fixtures: the real model, a real index of the bundled corpus built once per session, isolation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.build import build_index
from qa.index import Index
from qa.vectors import Embedder

REPOSITORY = Path(__file__).resolve().parent.parent
CORPUS = REPOSITORY / "corpus"
DEV_QA = REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"
DATA = Path(__file__).resolve().parent / "data"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: Playwright cannot download its own browser here
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """Never touch the repository's index/ from a test: the default index lives in a temporary folder."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path_factory.mktemp("default-index")))
    monkeypatch.setenv("QA_CORPUS_DIR", str(CORPUS))
    monkeypatch.delenv("QA_MODEL", raising=False)
    # The multilingual view costs a build 1.7x to 2.8x its time; the tests of Japanese and of languages build it
    # themselves (multilingual=True), as does the session's index of the bundled corpus
    monkeypatch.setenv("QA_MULTILINGUAL", "0")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once."""
    return Embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, embedder) -> Path:
    """A real index of the bundled corpus, built once per session."""
    folder = tmp_path_factory.mktemp("index")
    build_index(CORPUS, folder, embedder=embedder, multilingual=True)
    return folder


@pytest.fixture(scope="session")
def index(index_dir, embedder) -> Index:
    return Index.load(index_dir, embedder=embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the bundled corpus."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, index_dir) -> dict[str, str]:
    """Environment (QA_CORPUS_DIR, QA_INDEX_DIR) for the CLI: copies of the bundled corpus and of its index."""
    base = tmp_path_factory.mktemp("workspace")
    shutil.copytree(CORPUS, base / "corpus")
    shutil.copytree(index_dir, base / "index")
    return {"QA_CORPUS_DIR": str(base / "corpus"), "QA_INDEX_DIR": str(base / "index")}


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    if not DEV_QA.exists():
        pytest.skip(f"{DEV_QA} is not beside the repository")
    return [json.loads(line) for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, driven by Playwright, for the tests of the web app in a real browser."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():  # never skipped: a browser test that does not run proves nothing
        pytest.fail(f"{CHROMIUM} is missing; install it with: bash .ci/setup --test (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def ask_in_browser(page, question: str) -> list:
    """Type question into the chat, send it, and return the reply's messages (the answer, then one per source)."""
    replies = page.get_by_test_id("bot")
    before = replies.count()
    page.locator("#question textarea").fill(question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=bot]').length > {before}")
    # the whole turn arrives at once; wait until its first message (an answer, small talk or ⚠️) is rendered
    page.wait_for_function(f"document.querySelectorAll('[data-testid=bot]')[{before}].innerText.trim().length > 0")
    return [replies.nth(i) for i in range(before, replies.count())]


def errors_shown(page) -> int:
    """How many of Gradio's red "Error" marks (on a component, or as a toast) the page shows."""
    return page.locator(".toast-body.error, .error").count()
