"""The public API: qa.retrieve() and qa.answer() on the real bundled corpus, model and index."""

from __future__ import annotations

import inspect

import pytest

import qa
from qa.errors import BadQuestion

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"
THIRD_COUNCIL_TITLE = "EU and Japan strengthen technological and digital cooperation"


def squash(text: str) -> str:
    return " ".join(text.lower().split())


def test_all_is_sorted_and_lists_the_public_names():
    public = {name for name, value in vars(qa).items() if not name.startswith("_") and not inspect.ismodule(value)}

    assert qa.__all__ == sorted(qa.__all__)
    assert set(qa.__all__) == public
    for name in ("Answer", "BuildReport", "Passage", "QAError", "answer", "build_index", "retrieve"):
        assert name in qa.__all__


def test_retrieve_uses_the_default_index_from_the_environment(index_dir, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))  # the session's index of the bundled corpus

    passages = qa.retrieve(CO_CHAIR)

    assert 1 <= len(passages) <= 5
    assert all(isinstance(p, qa.Passage) for p in passages)
    assert "Henna Virkkunen" in passages[0].text


def test_retrieve_takes_the_index_folder_as_an_argument(index_dir):
    passages = qa.retrieve(CO_CHAIR, k=3, index_dir=index_dir)

    assert len(passages) == 3
    assert passages[0].title == THIRD_COUNCIL_TITLE


def test_passages_carry_text_score_offsets_and_citation(index):
    passages = qa.retrieve(CO_CHAIR, index=index)

    assert len(passages) == 5
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)  # best first
    for passage in passages:
        document = index.documents[passage.doc_id]
        assert passage.text and isinstance(passage.score, float)
        assert document.text[passage.start : passage.end] == passage.text
        assert (passage.title, passage.publisher, passage.date, passage.url) == (
            document.title, document.publisher, document.date, document.url
        )
        assert passage.title and passage.publisher and passage.date  # every bundled document has them
        assert passage.title in passage.citation and passage.publisher in passage.citation
        assert passage.date in passage.citation and passage.location in passage.citation
        assert passage.citation.endswith(f". {passage.url}") if passage.url else True
        start, end = passage.highlight
        assert 0 <= start < end <= len(passage.text)
        assert passage.quote == passage.text[start:end]
    assert len({(p.doc_id, p.start) for p in passages}) == 5  # no passage twice
    best = passages[0]
    assert best.title == THIRD_COUNCIL_TITLE
    assert best.publisher == "European Commission"
    assert best.date == "2025-05-12"


@pytest.mark.parametrize("k", [1, 3, 8])
def test_retrieve_returns_k_passages(index, k):
    assert len(qa.retrieve("semiconductors", k, index=index)) == k


def test_fact_questions_find_their_answer_in_the_top_five(index, dev_questions):
    facts = [q for q in dev_questions if q["kind"] == "fact"]
    assert len(facts) >= 30
    misses = []
    for question in facts:
        passages = qa.retrieve(question["question"], 5, index=index)
        texts = [squash(p.text) for p in passages]
        if not any(squash(answer) in text for answer in question["answers"] for text in texts):
            misses.append(f"{question['id']} {question['question']!r}: top passage {passages[0].text[:80]!r}")

    print(f"\n{len(facts) - len(misses)}/{len(facts)} fact questions answered in the top 5")
    print("\n".join(misses))
    assert (len(facts) - len(misses)) / len(facts) >= 0.9, "\n".join(misses)


def test_answer_abstains_when_nothing_answers(index):
    result = qa.answer("What is the recipe for a classic margherita pizza?", index=index)

    assert isinstance(result, qa.Answer)
    assert result.abstained
    assert result.passages == ()
    assert "nothing" in result.text.lower() and "answers" in result.text.lower()


def test_out_of_scope_questions_are_mostly_abstained(index, dev_questions):
    questions = [q["question"] for q in dev_questions if q["kind"] == "out_of_scope"]
    answered = [q for q in questions if not qa.answer(q, index=index).abstained]

    assert len(answered) <= len(questions) // 5, answered


def test_answer_quotes_and_cites_the_right_document(index):
    result = qa.answer(CO_CHAIR, index=index)

    assert not result.abstained
    assert result.question == CO_CHAIR
    assert "[1]" in result.text
    assert result.passages[0].title == THIRD_COUNCIL_TITLE
    assert "European Commission" in result.passages[0].citation
    assert result.passages[0].quote in result.text


def test_answer_quotes_the_sentence_that_answers(index):
    result = qa.answer(CO_CHAIR, index=index)

    assert "Henna Virkkunen" in result.text


def test_answer_uses_the_index_folder_argument(index_dir):
    result = qa.answer(CO_CHAIR, index_dir=index_dir)

    assert any(p.title == THIRD_COUNCIL_TITLE for p in result.passages)


BAD_QUESTIONS = {"empty": "", "spaces": "   ", "marks": "???", "tab-newline": "\t\n", "punctuation": "!!! ... ???"}


@pytest.mark.parametrize("question", BAD_QUESTIONS.values(), ids=BAD_QUESTIONS.keys())
@pytest.mark.parametrize("function", [qa.retrieve, qa.answer], ids=["retrieve", "answer"])
def test_a_question_without_words_raises_bad_question(index, function, question):
    with pytest.raises(BadQuestion):
        function(question, index=index)


def test_bad_question_is_a_qa_error():
    assert issubclass(BadQuestion, qa.QAError)


def test_control_characters_and_long_questions_are_cleaned(index):
    question = "Who\x00 co-chaired\x1b the third\n\nDigital Partnership Council?" + " x" * 2000

    passages = qa.retrieve(question, index=index)

    assert passages


def test_a_bad_question_is_refused_before_any_index_is_built(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("# Note\n\nThe council met in Tokyo.\n", encoding="utf-8")

    with pytest.raises(BadQuestion):
        qa.retrieve("???", corpus_dir=corpus, index_dir=tmp_path / "index")

    assert not (tmp_path / "index").exists()
