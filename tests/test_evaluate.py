"""qa eval: the metrics, the fixed-size baseline chunks, and the command on a small question file."""

import json

from click.testing import CliRunner

from qa.cli import main
from qa.evaluate import Outcome, Result, contains, fixed_size_chunks, metrics
from conftest import CORPUS


def test_contains_folds_case_and_whitespace():
    assert contains("Held  on\nThursday in TOKYO", ["held on thursday in tokyo"])
    assert not contains("held in Brussels", ["Tokyo"])


def test_metrics_count_ranks_coverage_and_abstention():
    fact = {"kind": "fact", "question": "q", "answers": ["yes"]}
    multi = {"kind": "multi", "question": "m", "answers_all": [["a"], ["b"]]}
    off = {"kind": "out_of_scope", "question": "o"}
    result = Result("x", [
        Outcome(fact, ["no", "yes"], "yes [2]", False, 0.01),
        Outcome(multi, ["a", "c"], "a [1]", False, 0.01),
        Outcome(off, [], "Nothing", True, 0.01),
    ])
    m = metrics(result)
    assert m["answer-hit@1"] == 0.0 and m["answer-hit@3"] == 1.0 and m["MRR"] == 0.5
    assert m["coverage@5 (multi)"] == 0.5
    assert m["abstains on out_of_scope"] == 1.0 and m["answers fact"] == 1.0
    assert m["short answer has answer"] == 1.0


def test_fixed_size_chunks_are_at_most_1000_characters_and_cover_every_document():
    chunks = fixed_size_chunks(CORPUS)
    assert all(len(c) <= 1000 for c in chunks)
    assert any("Henna Virkkunen" in c for c in chunks) and any("DATA-EX" in c for c in chunks)


def test_qa_eval_prints_the_project_and_both_baselines(tmp_path, index_dir, monkeypatch):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "kind": "fact", "question": "Who co-chaired the third Digital Partnership Council?",
         "answers": ["Henna Virkkunen"]},
        {"id": "b", "kind": "out_of_scope", "question": "What is the recipe for a classic margherita pizza?"},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")

    result = CliRunner().invoke(main, ["eval", str(questions), "--index", str(index_dir), "--corpus", str(CORPUS)])

    assert result.exit_code == 0, result.output
    for column in ("this project", "BM25, 1000-char chunks", "dense, 1000/200 chunks"):
        assert column in result.output
    assert "answer-hit@1" in result.output and "abstains on out_of_scope" in result.output


def test_qa_eval_reads_a_question_with_its_history_and_the_baselines_without(tmp_path, index_dir, monkeypatch):
    from qa import evaluate

    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "f", "kind": "fact", "history": ["Who leads the Japanese side of the 6G MIRAI-HARMONY project?"],
         "question": "What is its budget?", "answers": ["100 million yen per year"]},
        {"id": "a", "kind": "fact", "question": "Who co-chaired the third Digital Partnership Council?",
         "answers": ["Henna Virkkunen"]},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    asked = []
    real_answer = evaluate.answer
    monkeypatch.setattr(evaluate, "answer", lambda question, k, **options: asked.append((question, options))
                        or real_answer(question, k, **options))

    results = evaluate.run(questions, k=5, corpus_dir=CORPUS, index_dir=index_dir)

    histories = {question: options["history"] for question, options in asked}
    assert histories["What is its budget?"] == tuple(rows[0]["history"])
    assert histories["Who co-chaired the third Digital Partnership Council?"] == ()
    assert [o.question["id"] for r in results for o in r.outcomes] == ["f", "a"] * 3  # the baselines score it too
    assert evaluate.first_hit(results[0].outcomes[0]) is not None  # read with its history, it finds the budget


def test_qa_eval_reports_each_language_of_a_file_asked_in_two(tmp_path, index_dir):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "e", "kind": "fact", "question": "Who co-chaired the third Digital Partnership Council?",
         "answers": ["Henna Virkkunen"]},
        {"id": "j", "kind": "fact", "question": "第3回デジタルパートナーシップ協議会の共同議長は誰でしたか？",
         "answers": ["Henna Virkkunen"], "language": "ja"},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")

    result = CliRunner().invoke(main, ["eval", str(questions), "--no-baselines", "--index", str(index_dir),
                                       "--corpus", str(CORPUS)])

    assert result.exit_code == 0, result.output
    assert "this project, en" in result.output and "this project, ja" in result.output
