"""The chat sets of bench/chat/ stay valid, and python -m bench.chat still runs, on one question of each kind."""

import sys

import pytest
from conftest import CORPUS, DEV_QA, REPOSITORY

from qa import spelling
from qa.answer import answer
from qa.documents import read_corpus
from qa.evaluate import contains, load_questions

sys.path.insert(0, str(REPOSITORY))  # bench/ is not installed: it runs from the repository, as python -m bench
from bench import chat  # noqa: E402

dev_present = pytest.mark.skipif(not DEV_QA.exists(), reason=f"{DEV_QA} is not beside the repository")


@pytest.mark.parametrize("name", ["followups", "topic_changes"])
def test_every_pair_is_answered_in_its_document_after_a_history(name):
    documents = {d.doc_id: d.text for d in read_corpus(CORPUS)[0]}
    rows = load_questions(chat.CHAT / f"{name}.jsonl")

    for q in rows:
        assert q["kind"] == "fact" and q["history"] and all(isinstance(h, str) and h for h in q["history"]), q["id"]
        assert contains(documents[q["doc"]], q["answers"]), q["id"]
        for accepted in q["answers"]:  # each accepted string, not just one of them, is really in the corpus
            assert any(contains(text, [accepted]) for text in documents.values()), (q["id"], accepted)
    assert len({q["id"] for q in rows}) == len(rows) >= 20


@dev_present
def test_typos_and_lower_case_are_the_development_questions_reworded_only():
    dev = {q["id"]: q for q in load_questions(DEV_QA)}
    for name, suffix in (("typos", "-typo"), ("lowercase", "-lower")):
        rows = load_questions(chat.CHAT / f"{name}.jsonl")
        assert sorted(q["id"].removesuffix(suffix) for q in rows) == sorted(dev)
        for q in rows:
            clean = dev[q["id"].removesuffix(suffix)]
            assert {**q, "id": clean["id"], "question": clean["question"]} == clean, q["id"]
            assert q["question"] != clean["question"], q["id"]
            if name == "lowercase":
                assert q["question"] == clean["question"].lower().rstrip("?.! "), q["id"]


def test_small_talk_is_one_message_a_line_with_some_in_japanese():
    lines = (chat.CHAT / "small_talk.txt").read_text(encoding="utf-8").splitlines()
    assert all(line.strip() == line and line for line in lines)
    assert len(set(lines)) == len(lines) >= 20
    assert "こんにちは" in lines


def test_without_corrector_turns_the_corrector_off(index):
    question = "How will semicondutor supply chain resilience be ensured?"
    assert spelling.correct(question, index) != question
    assert answer(question, index=index).corrected

    with chat.without_corrector():
        assert spelling.correct(question, index) == question
        assert not answer(question, index=index).corrected
    assert answer(question, index=index).corrected


@dev_present
def test_bench_reports_every_measure_on_one_question_of_each_kind(index):
    sets = chat.load_sets(DEV_QA, limit=1)
    assert [q["kind"] for q in sets.typos] == ["fact", "multi", "out_of_scope"] and len(sets.followups) == 1

    runs = chat.run(index, sets)
    rows = chat.rows(runs)

    measures = " ".join(row.measure for row in rows)
    for expected in ("typo'd dev: answer-hit@5", "lower-case dev: answer-hit@1",
                     "off-topic abstention (dev + typo'd, 2)",
                     "follow-ups (1): answer-hit@3 with history", "topic changes (1)", "small talk (1)",
                     "correction alone", "answer(): median ms"):
        assert expected in measures
    assert next(row for row in rows if row.measure == "typo'd dev: answer-hit@5").reference.startswith("clean ")
    assert runs.followups.outcomes[0].question["history"] and len(runs.correction_ms) == len(sets.typos)
    markdown = chat.table(rows, markdown=True).splitlines()
    assert markdown[0] == "| measure | beside | figure | target |" and len(markdown) == len(rows) + 2
    assert len(chat.table(rows).splitlines()) == len(rows) + 1
    assert all(isinstance(line, str) for line in chat.all_misses(runs))


def test_failure_names_the_rank_and_the_abstention():
    fact = {"id": "a", "kind": "fact", "question": "q", "answers": ["yes"]}
    off = {"id": "b", "kind": "out_of_scope", "question": "o"}
    Outcome = chat.Outcome

    assert chat.failure(Outcome(fact, ["no", "no", "no", "yes"], "x", False, 0.0), 3) == "rank 4"
    assert chat.failure(Outcome(fact, ["no"], "Nothing", True, 0.0), 3) == "rank -, abstained"
    assert chat.failure(Outcome(fact, ["yes"], "yes", False, 0.0), 3) == ""
    assert chat.failure(Outcome(off, ["p"], "p", False, 0.0), 5) == "answered"
    assert chat.failure(Outcome(off, [], "Nothing", True, 0.0), 5) == ""


def test_misses_name_each_failure_and_each_answer_ranked_lower_than_beside():
    def result(*ranked):
        return chat.Result("x", [chat.Outcome({"id": f"q{n}", "kind": "fact", "question": f"question {n}",
                                               "answers": ["yes"]}, texts, "", False, 0.0)
                                 for n, texts in enumerate(ranked)])

    read = result(["no", "yes"], ["no"] * 5, ["yes"])
    alone = result(["yes"], ["yes"], ["yes"])

    assert chat.misses(read, 3, alone, "alone") == ["q0: rank 2 (alone: rank 1) — question 0",
                                                    "q1: rank - (alone: rank 1) — question 1"]
    assert chat.misses(alone, 3, read, "read") == []
