"""Shared fixtures: the real model, a real index of the bundled corpus built once per session, isolation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.index import Index, build_index
from qa.vectors import Embedder

REPOSITORY = Path(__file__).resolve().parent.parent
CORPUS = REPOSITORY / "corpus"
DEV_QA = REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """Never touch the repository's index/ from a test: the default index lives in a temporary folder."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path_factory.mktemp("default-index")))
    monkeypatch.setenv("QA_CORPUS_DIR", str(CORPUS))
    monkeypatch.delenv("QA_MODEL", raising=False)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once."""
    return Embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, embedder) -> Path:
    """A real index of the bundled corpus, built once per session."""
    folder = tmp_path_factory.mktemp("index")
    build_index(CORPUS, folder, embedder=embedder)
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


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    if not DEV_QA.exists():
        pytest.skip(f"{DEV_QA} is not beside the repository")
    return [json.loads(line) for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
