"""Japanese questions and Japanese documents, with the real models: cross-lingual both ways, dates from
Japanese datelines, abstention in Japanese."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.answer import answer
from qa.build import build_index
from qa.index import Index

JAPANESE = Path(__file__).resolve().parent.parent / "bench" / "japanese" / "corpus"
HEADERLESS = "second-digital-partnership-council-ja.txt"  # no metadata: its dateline reads 令和6年5月1日


@pytest.fixture(scope="module")
def japanese(tmp_path_factory, embedder) -> Index:
    corpus = tmp_path_factory.mktemp("japanese") / "corpus"
    shutil.copytree(JAPANESE, corpus)
    folder = corpus.parent / "index"
    build_index(corpus, folder, embedder=embedder, multilingual=True)
    return Index.load(folder, embedder=embedder)


def shown(result) -> list:
    return list(result.passages or result.closest)


def test_a_japanese_text_without_a_header_is_dated_from_its_dateline(japanese):
    document = japanese.documents[HEADERLESS]
    assert (document.date, document.language) == ("2024-05-01", "ja")
    assert document.title == "第2回日EUデジタルパートナーシップ協議会の開催について"


@pytest.mark.parametrize("question", [
    "第2回日EUデジタルパートナーシップ協議会はどこで開催されましたか？",
    "Where was the second Japan-EU Digital Partnership Council held?",  # 第2回 read as "second" (before_english)
], ids=["japanese", "english"])
def test_the_headerless_japanese_document_answers_in_both_languages(japanese, question):
    result = answer(question, index=japanese)
    assert not result.abstained  # the English question pins "second", which its passages write 第2回
    assert any(p.doc_id == HEADERLESS and "ブリュッセル" in p.text for p in result.passages[:5])


def test_a_date_filter_keeps_the_japanese_document_dated_from_its_dateline(japanese):
    result = answer("第2回協議会の共同議長は誰でしたか？", index=japanese, since="2024-05-01", until="2024-05-01")
    assert {p.doc_id for p in shown(result)} == {HEADERLESS}


def test_a_japanese_question_finds_the_english_passage(index):
    result = answer("第3回デジタルパートナーシップ協議会の共同議長は誰でしたか？", index=index)
    assert any("Henna Virkkunen" in p.text for p in shown(result)[:5])
    assert "英語" in result.notice  # the sources are quoted in English, and the asker is told so in Japanese


@pytest.mark.parametrize("question, answer_text", [
    ("半導体サプライチェーンの強靱性はどのように確保されますか？", "early warning mechanisms"),
    ("6G MIRAI-HARMONYプロジェクトの日本側を率いているのはどこですか？", "The University of Tokyo (Lead)"),
])
def test_japanese_questions_on_english_documents_are_answered_not_refused(index, question, answer_text):
    # e5's cosines alone left these under the off-topic bar; the question's English words (JMdict) lift them
    result = answer(question, index=index)
    assert not result.abstained
    assert any(answer_text in p.text for p in result.passages[:3])


def test_an_everyday_japanese_question_is_refused(index, japanese):
    for corpus in (index, japanese):
        assert answer("半熟卵を上手にゆでるコツを教えてください。", index=corpus).abstained


def test_without_the_multilingual_view_a_japanese_question_is_still_answered_or_refused(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(JAPANESE, corpus)
    build_index(corpus, tmp_path / "index", embedder=embedder, multilingual=False)
    index = Index.load(tmp_path / "index", embedder=embedder)
    assert index.cross is None
    result = answer("第2回日EUデジタルパートナーシップ協議会はどこで開催されましたか？", index=index)
    assert result.passages or result.closest or result.abstained
