"""Many processes, one index: two real servers (`qa serve` and `python app.py`, on ports of their own) over one index
folder go on answering while `qa index` rebuilds it in between, and both then find the new document, with no
restart; this is how the app runs behind a load balancer (README, "Deploying")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import CORPUS, REPOSITORY
from gradio_client import Client

from qa.build import build_index

sys.path.insert(0, str(REPOSITORY))
from bench.coldstart import free_port  # noqa: E402

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"
NEW_QUESTION = "How far was the seabed of the Arctic cable route clear?"
NEW_DOCUMENT = """---
title: Arctic cable survey
publisher: Digital Agency
date: 2026-01-20
---
The survey of the Arctic submarine cable route from Hokkaido to Finland found the seabed clear for 1,400 km.
"""
STARTS = {"qa serve": [sys.executable, "-m", "qa", "serve"], "python app.py": [sys.executable, "app.py"]}
START_SECONDS = 240  # both start at once on a shared two-core machine: each imports torch and gradio, loads the model


@pytest.fixture(scope="module")
def servers(tmp_path_factory, embedder):
    """Both servers over one corpus copy and one index folder, as a deployment shares them:
    ({name: url}, corpus folder, index folder)."""
    base = tmp_path_factory.mktemp("shared")
    corpus_dir, index_dir = base / "corpus", base / "index"
    shutil.copytree(CORPUS, corpus_dir)
    build_index(corpus_dir, index_dir, embedder=embedder, multilingual=False)
    environment = os.environ | {"QA_CORPUS_DIR": str(corpus_dir), "QA_INDEX_DIR": str(index_dir),
                                "QA_MULTILINGUAL": "0", "HF_HUB_OFFLINE": "1"}
    ports = {name: free_port() for name in STARTS}
    processes = {name: subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(ports[name])],
                                        cwd=REPOSITORY, env=environment, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
                 for name, command in STARTS.items()}
    try:
        urls = {name: ready(f"http://127.0.0.1:{ports[name]}/", processes[name]) for name in STARTS}
        yield urls, corpus_dir, index_dir
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)


def ready(url: str, process: subprocess.Popen) -> str:
    """url once the server there answers a question."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if "Henna Virkkunen" in Client(url, verbose=False).predict(CO_CHAIR, api_name="/ask"):
                return url
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.5)
    process.kill()
    pytest.fail(f"{url} did not answer within {START_SECONDS} s: {process.communicate()[1][-2000:]}")


def test_two_servers_on_one_index_answer_through_a_rebuild_and_both_see_the_new_document(servers):
    urls, corpus_dir, index_dir = servers
    replies, stop = {name: [] for name in urls}, threading.Event()

    def keep_asking(name: str) -> None:
        client = Client(urls[name], verbose=False)
        while not stop.is_set():
            try:
                replies[name].append(client.predict(CO_CHAIR, api_name="/ask"))
            except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
                replies[name].append(f"FAILED: {error!r}")

    askers = [threading.Thread(target=keep_asking, args=(name,)) for name in urls]
    for asker in askers:
        asker.start()
    try:
        before = (index_dir / "CURRENT").read_text()
        (corpus_dir / "arctic.md").write_text(NEW_DOCUMENT, encoding="utf-8")
        started = {name: len(said) for name, said in replies.items()}
        subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus_dir), "--index", str(index_dir)],
                       check=True, capture_output=True, timeout=300,
                       env=os.environ | {"HF_HUB_OFFLINE": "1", "QA_MULTILINGUAL": "0"})
        assert (index_dir / "CURRENT").read_text() != before
        during = {name: len(said) - started[name] for name, said in replies.items()}
        after = {name: found(url) for name, url in urls.items()}
    finally:
        stop.set()
        for asker in askers:
            asker.join(timeout=60)

    print(f"\nanswered while `qa index` ran: {during}; in all: { {name: len(said) for name, said in replies.items()} }")
    for name in urls:
        assert "1,400 km" in after[name] and "Arctic cable survey" in after[name], name  # no restart
        assert during[name] >= 1, name  # asked while the index was rebuilt
        assert all("Henna Virkkunen" in reply and "[1]" in reply for reply in replies[name]), replies[name][:3]


def found(url: str, seconds: float = 30) -> str:
    """The answer to the new document's question, once the server has switched to the new index: the first question
    after the switch loads it, and one asked while it loads is answered from the open index."""
    client, deadline = Client(url, verbose=False), time.monotonic() + seconds
    while True:
        reply = client.predict(NEW_QUESTION, api_name="/ask")
        if "1,400 km" in reply or time.monotonic() > deadline:
            return reply
        time.sleep(0.2)


def test_an_event_lives_in_the_process_that_queued_it_so_a_load_balancer_needs_sticky_sessions(servers):
    urls = list(servers[0].values())
    config = httpx.get(urls[0] + "config").json()
    ask = next(dependency["id"] for dependency in config["dependencies"] if dependency.get("api_name") == "ask")

    joined = httpx.post(urls[0] + "gradio_api/queue/join", json={
        "data": [CO_CHAIR, "", "", None, None, None], "fn_index": ask, "session_hash": "sticky"})

    assert joined.status_code == 200
    assert completed(urls[1], "sticky") is None  # the other process never heard of it
    assert "Henna Virkkunen" in completed(urls[0], "sticky")


def completed(url: str, session: str) -> str | None:
    """The finished event of session, as url's queue streams it; None if that server has no such session."""
    try:
        with httpx.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session},
                          timeout=60) as stream:
            return next((line for line in stream.iter_lines() if "process_completed" in line), None)
    except httpx.RemoteProtocolError:  # Gradio's "404 session not found" comes inside the stream, which just ends
        return None
