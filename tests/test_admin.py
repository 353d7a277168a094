"""Who may change the documents: asking is open, adding and removing needs the admin password. Each write event is
called the way an attacker would, without the page: its number read from the public /config, then raw HTTP to
Gradio's queue (/gradio_api/queue/join), against the real app on localhost."""

from __future__ import annotations

import json
import shutil
import sys
import uuid

import httpx
import pytest
from conftest import CORPUS, REPOSITORY
from gradio_client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fetch import serving

from qa.build import build_index
from qa.ui_text import EN, JA

sys.path.insert(0, str(REPOSITORY))
import app  # noqa: E402
from bench.coldstart import free_port  # noqa: E402

PASSWORD = "correct horse battery staple 東京"  # beyond ASCII on purpose: compare_digest refuses such str
KEPT = "2024-05-01-second-digital-partnership-council.md"
NEW_DOCUMENT = b"""---
title: Arctic cable survey
publisher: Digital Agency
date: 2026-01-20
---
The survey of the Arctic submarine cable route from Hokkaido to Finland found the seabed clear for 1,400 km.
"""


class Visitor:
    """Someone with only the address: one session, and the events the page would send, sent without it."""

    def __init__(self, url: str):
        self.url, self.session = url, uuid.uuid4().hex
        config = httpx.get(url + "config").json()
        names = {component["id"]: component.get("props", {}).get("elem_id") for component in config["components"]}
        self.clicks = {names[target]: dependency["id"] for dependency in config["dependencies"]
                       for target, event in dependency["targets"] if event == "click"}
        # the documents page's load event fills the list of documents a removal must name, in this session
        self.send(next(dependency["id"] for dependency in config["dependencies"]
                       if [names[output] for output in dependency["outputs"]] == ["doomed", "document-list"]))

    def send(self, fn_index: int, *data) -> list:
        """What the event returned, once the queue has run it."""
        joined = httpx.post(self.url + "gradio_api/queue/join", json={
            "data": list(data), "fn_index": fn_index, "session_hash": self.session, "event_data": None,
            "trigger_id": None})
        joined.raise_for_status()
        with httpx.stream("GET", self.url + "gradio_api/queue/data", params={"session_hash": self.session},
                          timeout=120) as stream:
            for line in stream.iter_lines():
                message = json.loads(line.removeprefix("data:")) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    assert message["success"], message["output"]
                    return message["output"]["data"]
        raise AssertionError("the queue closed without completing the event")

    def upload(self, name: str, data: bytes) -> dict:
        """A file put in Gradio's upload folder, as the page's file box does, ready to be named in an event."""
        stored = httpx.post(self.url + "gradio_api/upload", files=[("files", (name, data))])
        stored.raise_for_status()
        return {"path": stored.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def add(self, name: str, data: bytes, password: str | None) -> str:
        return self.send(self.clicks["add"], [self.upload(name, data)], password)[0]

    def add_address(self, url: str, password: str | None) -> str:
        return self.send(self.clicks["add-address"], url, password)[0]

    def remove(self, doc_id: str, password: str | None) -> str:
        return self.send(self.clicks["remove"], doc_id, password)[0]


def serve(corpus_dir, index_dir, password: str):
    demo = app.build_demo(corpus_dir, index_dir, password=password)
    return app.launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)


def message(key: str) -> str:
    """A status message as the event sends it: the key, which the page shows in the browser's language."""
    return str(app.text(key))


@pytest.fixture(scope="module")
def closed(index_dir):
    """The app as it starts with no QA_ADMIN_PASSWORD: over the bundled corpus (it must stay unchanged)."""
    demo = serve(CORPUS, index_dir, password="")
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, embedder):
    """The app with an admin password, over a writable copy of the corpus: (url, corpus folder)."""
    base = tmp_path_factory.mktemp("guarded")
    shutil.copytree(CORPUS, base / "corpus")
    build_index(base / "corpus", base / "index", embedder=embedder, multilingual=False)
    demo = serve(base / "corpus", base / "index", password=PASSWORD)
    yield demo.local_url, base / "corpus"
    demo.close()


@pytest.fixture(scope="module")
def server():
    """A real HTTP server on localhost serving web pages (test_fetch's): its address."""
    with serving() as address:
        yield address


def documents(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_without_an_admin_password_nobody_can_add_or_remove_and_asking_stays_open(closed, server):
    visitor, before = Visitor(closed), documents(CORPUS)

    assert visitor.add("arctic.md", NEW_DOCUMENT, "anything at all") == message("writes_off")
    assert visitor.add("arctic.md", NEW_DOCUMENT, None) == message("writes_off")
    assert visitor.add_address(server + "/page.html", None) == message("writes_off")
    assert visitor.remove(KEPT, "") == message("writes_off")

    assert documents(CORPUS) == before
    reply = Client(closed, verbose=False).predict("Who co-chaired the third Digital Partnership Council?",
                                                  api_name="/ask")
    assert "Henna Virkkunen" in reply


WRONG = {"none": None, "empty": "", "a guess": "admin", "one space more": PASSWORD + " ",
         "capitals": PASSWORD.upper(), "its first half": PASSWORD[:12], "not a string": ["correct horse"]}


@pytest.mark.parametrize("password", WRONG.values(), ids=WRONG.keys())
def test_a_wrong_password_changes_nothing(guarded, server, password):
    url, corpus = guarded
    visitor, before = Visitor(url), documents(corpus)

    assert visitor.add("arctic.md", NEW_DOCUMENT, password) == message("wrong_password")
    assert visitor.add_address(server + "/page.html", password) == message("wrong_password")
    assert visitor.remove(KEPT, password) == message("wrong_password")
    assert documents(corpus) == before


def test_the_admin_password_adds_a_document_that_is_answered_at_once_then_removes_it(guarded):
    url, corpus = guarded
    visitor, client = Visitor(url), Client(url, verbose=False)

    added = visitor.add("Arctic survey.md", NEW_DOCUMENT, PASSWORD)
    assert "✅ Arctic survey.md → Arctic-survey.md" in added and "1 added" in added
    assert "1,400 km" in client.predict("How far was the seabed of the Arctic cable route clear?", api_name="/ask")

    removed = visitor.remove("Arctic-survey.md", PASSWORD)
    assert "Arctic-survey.md" in removed and "1 removed" in removed
    assert "Arctic-survey.md" not in documents(corpus)


def test_the_admin_password_adds_a_web_page_that_is_cited_by_its_address(guarded, server):
    url = guarded[0]
    visitor, address = Visitor(url), server + "/page.html"

    added = visitor.add_address(address, PASSWORD)
    assert f"✅ {address} → page.html" in added and "1 added" in added
    reply = Client(url, verbose=False).predict("How far was the seabed of the Arctic cable route clear?",
                                               api_name="/ask")
    assert "1,400 km" in reply and address in reply
    assert "already in the corpus" in visitor.add_address(address, PASSWORD)

    assert "1 removed" in visitor.remove("page.html", PASSWORD)


@pytest.fixture(scope="module")
def intruder(guarded) -> Visitor:
    return Visitor(guarded[0])


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=st.text(max_size=40).filter(lambda typed: typed != PASSWORD))
def test_any_typed_password_but_the_right_one_is_refused_without_an_error(guarded, intruder, password):
    assert intruder.remove(KEPT, password) == message("wrong_password")  # and the queue reported no error
    assert (guarded[1] / KEPT).exists()


@settings(max_examples=1000, database=None)
@given(typed=st.text(), password=st.text(min_size=app.MIN_PASSWORD_CHARS))
def test_only_the_same_text_signs_in(typed, password):
    assert app.signed_in(typed, password) is (typed == password)
    assert app.signed_in(password, password)
    assert not app.signed_in(typed, None)


def test_a_lone_surrogate_from_json_is_refused_not_an_error():
    assert not app.signed_in(json.loads('"\\ud800"'), PASSWORD)


@pytest.mark.parametrize(("value", "password"), [("", None), (None, None), (PASSWORD, PASSWORD)],
                         ids=["empty", "unset", "set"])
def test_the_admin_password_comes_from_qa_admin_password_with_no_default(monkeypatch, value, password):
    monkeypatch.delenv("QA_ADMIN_PASSWORD", raising=False)
    if value is not None:
        monkeypatch.setenv("QA_ADMIN_PASSWORD", value)
    assert app.admin_password() == password
    assert app.admin_password("") is None  # the app's argument wins: "" turns writes off whatever the variable


def test_a_short_admin_password_is_refused_at_start_saying_how_to_make_one(monkeypatch):
    monkeypatch.setenv("QA_ADMIN_PASSWORD", "hunter2")
    with pytest.raises(ValueError, match="at least 12 characters.*secrets.token_urlsafe"):
        app.build_demo(CORPUS)


def test_the_refusals_say_how_to_enable_writes_in_each_language():
    for words in (EN, JA):
        assert "QA_ADMIN_PASSWORD" in words["writes_off"] and f"{app.MIN_PASSWORD_CHARS}" in words["writes_off"]
        assert "QA_ADMIN_PASSWORD" in words["wrong_password"]
