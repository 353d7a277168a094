"""A build killed (SIGKILL) at any point leaves the previous index loadable and answering, and the next
build completes: real `qa index` processes, real files, killed at points observed from outside."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import CORPUS, REPOSITORY

import qa
from qa.build import build_index
from qa.index import Index
from qa.store import POINTER, current_generation

sys.path.insert(0, str(REPOSITORY))
from bench import corpus as generated  # noqa: E402

NEW_DOCUMENTS = 40  # generated documents the killed build was adding: some seconds of embedding
QUESTION = "Who co-chaired the third Digital Partnership Council?"
WAIT = 120.0  # seconds to wait for a kill point before failing


class Build:
    """`qa -v index` in its own process, with its log lines collected as they come."""

    def __init__(self, corpus_dir: Path, index_dir: Path):
        self.index_dir = index_dir
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "qa", "-v", "index", "--corpus", str(corpus_dir), "--index", str(index_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=os.environ | {"HF_HUB_OFFLINE": "1"},
        )
        threading.Thread(target=lambda: self.lines.extend(self.process.stderr), daemon=True).start()

    def wait_until(self, seen) -> None:
        deadline = time.monotonic() + WAIT
        while not seen(self):
            if self.process.poll() is not None:
                pytest.fail(f"the build ended (code {self.process.returncode}) before the kill point:\n"
                            + "".join(self.lines))
            if time.monotonic() > deadline:
                pytest.fail("the kill point never came:\n" + "".join(self.lines))
            time.sleep(0.001)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL


def started(build: Build) -> bool:
    time.sleep(0.5)  # still importing: nothing written yet
    return True


def embedding(build: Build) -> bool:
    return any("embedding" in line for line in build.lines)


def writing(build: Build) -> bool:
    return any(build.index_dir.glob(".building-*/*"))


KILL_POINTS = {"while starting": started, "while embedding": embedding, "while writing files": writing}


@pytest.fixture
def grown(tmp_path, embedder) -> tuple[Path, Path, str]:
    """An index of the bundled corpus, and the corpus with new documents added that are not indexed yet."""
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus_dir)
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=embedder)
    generated.write_corpus(corpus_dir / "archive", NEW_DOCUMENTS)
    return corpus_dir, index_dir, current_generation(index_dir).name


def assert_old_index_answers(index_dir: Path, old: str, embedder) -> None:
    assert (index_dir / POINTER).read_text().strip() == old
    index = Index.load(index_dir, embedder=embedder)  # checks every file against the manifest
    assert index.path.name == old
    assert not any(doc_id.startswith("archive/") for doc_id in index.documents)
    passages = qa.retrieve(QUESTION, index=index)
    assert "Henna Virkkunen" in " ".join(p.text for p in passages)


@pytest.mark.parametrize("point", KILL_POINTS.values(), ids=KILL_POINTS.keys())
def test_a_killed_build_leaves_the_previous_index_answering(grown, embedder, point):
    corpus_dir, index_dir, old = grown
    build = Build(corpus_dir, index_dir)
    build.wait_until(point)
    build.kill()

    assert_old_index_answers(index_dir, old, embedder)

    report = build_index(corpus_dir, index_dir, embedder=embedder)  # the next build completes
    assert len(report.added) == NEW_DOCUMENTS
    index = Index.load(index_dir, embedder=embedder)
    assert sum(doc_id.startswith("archive/") for doc_id in index.documents) == NEW_DOCUMENTS
    assert not list(index_dir.glob(".building-*")) and not list(index_dir.glob(f".{POINTER}.*"))


def test_builds_killed_one_after_another_never_lose_the_index(grown, embedder):
    corpus_dir, index_dir, old = grown
    for point in KILL_POINTS.values():
        build = Build(corpus_dir, index_dir)
        build.wait_until(point)
        build.kill()
        assert_old_index_answers(index_dir, old, embedder)


def test_a_finished_folder_the_pointer_never_reached_is_not_loaded(grown, embedder):
    """Killed between writing the new folder and switching CURRENT to it: too short a moment to hit
    from outside, so made by hand, as the build would have left it."""
    corpus_dir, index_dir, old = grown
    orphan = index_dir / "gen-99999999T999999-orphan"
    shutil.copytree(index_dir / old, orphan)

    assert_old_index_answers(index_dir, old, embedder)
    build_index(corpus_dir, index_dir, embedder=embedder)
    assert current_generation(index_dir).name not in (old, orphan.name)
