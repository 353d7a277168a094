"""Answer quality, held by the real pipeline: the targets of the quality issue on the development questions,
and on the growth questions over a corpus grown with distractors (bench/growth). A change that costs
quality fails here, not only in BENCHMARKS.md. Real model, real indexes, the same code as `qa eval`."""

from __future__ import annotations

import sys

import pytest
from conftest import CORPUS, REPOSITORY

from qa import evaluate
from qa.answer import answer
from qa.build import build_index, open_index

sys.path.insert(0, str(REPOSITORY))  # bench/ is not installed: it runs from the repository
from bench.growth import GROWTH, grown_corpus

DEV = REPOSITORY.parent / "shared" / "eval" / "dev_qa.jsonl"


def test_the_development_questions_meet_the_targets(index_dir):
    ours, bm25, dense = (evaluate.metrics(r) for r in evaluate.run(DEV, k=5, corpus_dir=CORPUS, index_dir=index_dir))

    assert ours["answer-hit@1"] >= 0.90 and ours["answer-hit@5"] == 1.0
    assert ours["coverage@5 (multi)"] >= 0.9
    assert ours["abstains on out_of_scope"] >= 0.9 and ours["answers fact"] >= 0.95
    assert ours["short answer has answer"] >= 0.8
    assert ours["median passage chars"] <= 700
    for baseline in (bm25, dense):
        assert ours["answer-hit@1"] > baseline["answer-hit@1"] and ours["MRR"] > baseline["MRR"]


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grown")
    corpus = grown_corpus(folder / "corpus")
    build_index(corpus, folder / "index")
    return corpus, folder / "index"


def test_other_questions_on_a_grown_corpus_stay_ahead_of_both_baselines(grown):
    corpus, index_dir = grown
    results = evaluate.run(GROWTH / "questions.jsonl", k=5, corpus_dir=corpus, index_dir=index_dir)
    ours, bm25, dense = (evaluate.metrics(r) for r in results)

    # measured 0.91 and 0.91 (BENCHMARKS.md): 29 of 32; losing one question passes, losing two fails
    assert ours["answer-hit@1"] >= 0.85 and ours["short answer has answer"] >= 0.85
    assert ours["abstains on out_of_scope"] >= 0.9 and ours["answers fact"] >= 0.95
    for baseline in (bm25, dense):
        assert ours["answer-hit@1"] > baseline["answer-hit@1"] and ours["MRR"] > baseline["MRR"]
        assert ours["answer-hit@5"] >= baseline["answer-hit@5"]


def test_a_when_question_is_answered_with_the_sentence_that_dates_it(grown, embedder, monkeypatch):
    # The closest sentence says how often the council meets; the one holding a date says when it first meets.
    corpus, index_dir = grown
    index = open_index(corpus, index_dir, embedder)
    question = "When is the EU-Korea Digital Partnership Council supposed to meet for the first time?"

    assert "2023" in answer(question, index=index).text
    monkeypatch.setattr(sys.modules["qa.retrieve"], "ANSWER_TYPE_WEIGHT", 0.0)  # qa.retrieve is also a function
    monkeypatch.setattr(sys.modules["qa.quote"], "ANSWER_TYPE_WEIGHT", 0.0)  # and in choosing the sentence to quote
    assert "2023" not in answer(question, index=index).text
