"""qa.encoder: questions embedded by the ONNX export of the real model agree with sentence-transformers, and the
question path imports no torch. Real model, real export, real index files: no fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS, DEV_QA
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import encoder
from qa.build import build_index, open_index
from qa.errors import IndexCorrupt, ModelMismatch
from qa.index import Index
from qa.store import current_generation
from qa.vectors import Embedder

DEV_QA_JA = DEV_QA.with_name("dev_qa_ja.jsonl")
HEAVY = ("torch", "transformers", "sentence_transformers")
# what a question path may be asked: a question in each language, one with a filter, a follow-up
ASKING = """
import json, sys
import qa
from qa.cli import main
index = dict(corpus_dir=sys.argv[1], index_dir=sys.argv[2])
qa.retrieve("Who leads the 6G MIRAI-HARMONY project?", **index)
qa.answer("第3回日EUデジタルパートナーシップ閣僚会合はどこで開かれましたか？", **index)
qa.answer("And the second one?", history=["Who co-chaired the third Digital Partnership Council?"], since="2024",
          **index)
main(["ask", "--corpus", sys.argv[1], "--index", sys.argv[2], "What was agreed on submarine cables?"],
     standalone_mode=False)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in %r)))
""" % (HEAVY,)


def questions_of(path) -> list[str]:
    if not path.exists():
        pytest.skip(f"{path} is not beside the repository")
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def onnx(index_dir) -> encoder.Encoder:
    """The session index's own question encoder, as answering uses it."""
    return encoder.question_encoder(*_generation_of(index_dir))


@pytest.fixture(scope="module")
def fp32() -> Embedder:
    return Embedder(precision="fp32")


def _generation_of(index_dir):
    folder = current_generation(index_dir)
    return folder, json.loads((folder / "manifest.json").read_text())


def test_the_question_path_imports_no_torch(index_dir):
    """Retrieval, answers in English and Japanese, a follow-up with a filter and `qa ask`, in a fresh process on a
    built index (with its multilingual view): none of torch, transformers, sentence_transformers is imported."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", ASKING, str(CORPUS), str(index_dir)], env=env, check=True,
                          capture_output=True, text=True, timeout=300)

    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert "6G" in done.stdout or "cable" in done.stdout  # qa ask printed an answer


def test_import_qa_and_the_cli_load_nothing_heavy():
    """Gradio only for `qa serve`, evaluation only for `qa eval`, torch only for building."""
    code = ("import json, sys, qa, qa.cli; print(json.dumps(sorted(name for name in sys.modules "
            "if name.split('.')[0] in ('torch', 'transformers', 'sentence_transformers', 'gradio', 'onnxruntime') "
            "or name == 'qa.evaluate')))")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert json.loads(done.stdout) == []


def test_the_session_index_answers_through_its_export(index_dir):
    assert isinstance(Index.load(index_dir).embedder, encoder.Encoder)


@pytest.mark.parametrize("path", [DEV_QA, DEV_QA_JA], ids=["dev_qa", "dev_qa_ja"])
def test_onnx_vectors_agree_with_sentence_transformers_fp32(onnx, fp32, path):
    texts = questions_of(path)
    exported, reference = onnx.embed(texts), fp32.embed(texts)

    cosines = np.sum(exported * reference, axis=1)  # both are unit vectors
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())]


def test_onnx_cuts_long_texts_where_the_model_does(onnx, fp32):
    """max_seq_length is 256 tokens: a longer text is cut there by both, so its tail changes nothing."""
    long = " ".join(["The Digital Partnership Council met in Brussels to review semiconductor cooperation."] * 40)
    assert onnx.max_length == fp32.model.max_seq_length == 256
    exported = onnx.embed([long, long + " Quantum computing."])
    reference = fp32.embed([long])

    assert float(exported[0] @ reference[0]) >= 0.9999
    assert float(exported[0] @ exported[1]) >= 0.99999


def test_a_batch_pads_without_changing_any_vector(onnx):
    """Texts of different lengths in one call are padded to the longest; the mask keeps padding out of the mean."""
    texts = ["5G", "Who co-chaired the third Digital Partnership Council, and where did it meet?", ""]
    batch = onnx.embed(texts)
    alone = np.vstack([onnx.embed([text]) for text in texts])

    assert np.sum(batch * alone, axis=1).min() >= 0.99999


def test_the_nearest_chunks_are_the_same_as_with_sentence_transformers(index, onnx, fp32, dev_questions):
    texts = [question["question"] for question in dev_questions]
    for exported, reference in zip(onnx.embed(texts), fp32.embed(texts)):
        assert list(index.dense_scores(exported, 5)) == list(index.dense_scores(reference, 5))


def test_no_text_gives_an_empty_matrix(onnx):
    vectors = onnx.embed([])
    assert vectors.shape == (0, 384) and vectors.dtype == np.float32


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400))
def test_any_typed_text_gives_a_unit_vector(onnx, text):
    vector = onnx.embed([text])
    assert vector.shape == (1, 384) and vector.dtype == np.float32
    assert np.isfinite(vector).all() and abs(float(np.linalg.norm(vector)) - 1) < 1e-5


# --- the export's place in the index: built once, reused, checked -------------------------------------


@pytest.fixture
def small(tmp_path) -> tuple:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "chips.md").write_text("# Chips\n\nThe EU and Japan agreed to cooperate on semiconductor research and "
                                     "on an early warning mechanism for chip supply chains.\n", encoding="utf-8")
    return corpus, tmp_path / "index"


def test_the_manifest_names_the_question_encoder_and_hashes_its_files(small):
    corpus, index_dir = small
    build_index(corpus, index_dir)
    folder, manifest = _generation_of(index_dir)

    assert manifest["question_encoder"] == {"model": "all-MiniLM-L6-v2", "dimension": 384, "max_length": 256,
                                            "precision": "fp32", "export": encoder.EXPORT_VERSION,
                                            "opset": encoder.OPSET}
    assert set(encoder.FILES) <= set(manifest["files"])


def test_a_rebuild_keeps_the_question_encoder_and_its_loaded_session(small):
    corpus, index_dir = small
    build_index(corpus, index_dir)
    first = open_index(corpus, index_dir, Embedder())
    first.embedder.embed(["warm up"])
    (corpus / "quantum.md").write_text("# Quantum\n\nA joint call on quantum computing was launched.\n")
    build_index(corpus, index_dir)
    second = open_index(corpus, index_dir, Embedder())

    assert second.path != first.path
    assert (second.path / encoder.MODEL_FILE).stat().st_ino == (first.path / encoder.MODEL_FILE).stat().st_ino
    assert second.embedder is first.embedder  # same files by their hashes: the session is not loaded again


def test_a_damaged_question_encoder_is_refused(small):
    corpus, index_dir = small
    build_index(corpus, index_dir)
    model = current_generation(index_dir) / encoder.MODEL_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01  # a flipped bit in the weights: it would load, and give other vectors
    model.unlink()  # a new file: the bytes of other generations (hard links) stay as they are
    model.write_bytes(bytes(data))

    with pytest.raises(IndexCorrupt, match="question.onnx.*qa index"):
        Index.load(index_dir)


def test_a_question_encoder_of_another_model_is_never_used(small):
    corpus, index_dir = small
    build_index(corpus, index_dir)
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["question_encoder"]["model"] = "another-model"
    path.write_text(json.dumps(manifest))

    with pytest.raises(ModelMismatch, match="another-model.*qa index"):
        Index.load(index_dir)
