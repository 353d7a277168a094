"""The growth, held-out and numbers question sets stay valid: every answer string is in the document it names, and
a fact's answer in no other document of the corpus the set is asked of."""

import json
from pathlib import Path

import pytest
from conftest import CORPUS

from qa.documents import read_corpus
from qa.evaluate import contains

BENCH = Path(__file__).resolve().parent.parent / "bench"


GROWN = (CORPUS, BENCH / "growth" / "corpus")


ALL_KINDS = {"fact", "multi", "out_of_scope"}


@pytest.mark.parametrize("questions, folders, kinds", [
    (BENCH / "growth" / "questions.jsonl", GROWN, ALL_KINDS),
    (BENCH / "heldout" / "questions.jsonl", GROWN, ALL_KINDS),
    (BENCH / "blind2" / "questions.jsonl", (*GROWN, BENCH / "blind2" / "corpus"), ALL_KINDS),
    (BENCH / "numbers" / "questions.jsonl", (*GROWN, BENCH / "blind2" / "corpus"), {"fact", "out_of_scope"}),
], ids=["growth", "heldout", "blind2", "numbers"])
def test_every_answer_occurs_in_its_document_only(questions, folders, kinds):
    documents = {d.doc_id: d.text for folder in folders for d in read_corpus(folder)[0]}
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]

    for q in rows:
        if q["kind"] == "fact":
            assert contains(documents[q["doc"]], q["answers"]), q["id"]
            assert not any(contains(text, q["answers"]) for doc, text in documents.items() if doc != q["doc"]), q["id"]
        elif q["kind"] == "multi":
            for fact, doc in zip(q["answers_all"], q["docs"], strict=True):
                assert contains(documents[doc], fact), q["id"]
    assert {q["kind"] for q in rows} == kinds
    assert len({q["id"] for q in rows}) == len(rows)
