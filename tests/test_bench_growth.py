"""The growth question set stays valid: every answer string is in the document it names."""

import json
from pathlib import Path

from conftest import CORPUS

from qa.documents import read_corpus
from qa.evaluate import contains

GROWTH = Path(__file__).resolve().parent.parent / "bench" / "growth"


def test_every_growth_answer_occurs_in_its_document():
    documents = {d.doc_id: d.text for folder in (CORPUS, GROWTH / "corpus") for d in read_corpus(folder)[0]}
    questions = [json.loads(line) for line in (GROWTH / "questions.jsonl").read_text(encoding="utf-8").splitlines()]

    for q in questions:
        if q["kind"] == "fact":
            assert contains(documents[q["doc"]], q["answers"]), q["id"]
        elif q["kind"] == "multi":
            for fact in q["answers_all"]:
                assert any(contains(documents[doc], fact) for doc in q["docs"]), q["id"]
    assert {q["kind"] for q in questions} == {"fact", "multi", "out_of_scope"}
