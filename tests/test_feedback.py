"""Thumbs up/down on sources: recording (also from many threads at once), reading past damage, and
turning the file into regression questions that `qa eval` scores."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

import qa
from conftest import CORPUS
from qa import config, feedback
from qa.cli import main
from qa.evaluate import load_questions
from qa.feedback import Feedback
from qa.build import build_index

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"
MIRAI = "Who leads the 6G MIRAI-HARMONY project?"
CABLES = "What was agreed on submarine cables?"


@pytest.fixture(autouse=True)
def no_feedback_file_setting(monkeypatch):
    monkeypatch.delenv("QA_FEEDBACK_FILE", raising=False)


@pytest.fixture(scope="module")
def passages(index) -> dict[str, list[qa.Passage]]:
    """The project's own top passages for three questions, from the real index."""
    return {question: qa.retrieve(question, index=index) for question in (CO_CHAIR, MIRAI, CABLES)}


# --- record and read -----------------------------------------------------------------------------


def test_record_and_read_round_trip(tmp_path, passages):
    path = tmp_path / "not yet there" / "feedback.jsonl"
    first, second = passages[CO_CHAIR][:2]
    odd = replace(second, text=second.text + "\u2028 東京 – “quoted”")  # U+2028 splits lines for str.splitlines()

    written = [feedback.record(path, CO_CHAIR, first, True), feedback.record(path, CO_CHAIR, odd, False)]

    assert feedback.read(path) == written
    assert written[0] == Feedback(CO_CHAIR, True, first.doc_id, first.title, first.start, first.end, first.quote,
                                  first.text, written[0].time)
    assert written[0].quote and written[0].quote in written[0].text
    assert datetime.fromisoformat(written[0].time).utcoffset() == timezone.utc.utcoffset(None)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3  # two lines, each ended
    assert "東京 – “quoted”" in lines[1]  # ensure_ascii=False: the file is readable as it is
    assert json.loads(lines[0]) == {"question": CO_CHAIR, "helpful": True, "doc_id": first.doc_id,
                                    "title": first.title, "start": first.start, "end": first.end,
                                    "quote": first.quote, "text": first.text, "time": written[0].time}


def test_reading_a_file_not_yet_written_gives_no_feedback(tmp_path):
    assert feedback.read(tmp_path / "feedback.jsonl") == []


def test_twenty_threads_recording_at_once_write_twenty_whole_lines(tmp_path, passages):
    path = tmp_path / "feedback.jsonl"
    long = replace(passages[CO_CHAIR][0], text=passages[CO_CHAIR][0].text * 40)  # lines larger than a write buffer
    start = threading.Barrier(20)

    def rate(n: int) -> None:
        start.wait()
        feedback.record(path, f"question {n}", long, n % 2 == 0)

    threads = [threading.Thread(target=rate, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 21
    assert sorted(json.loads(line)["question"] for line in lines[:-1]) == sorted(f"question {n}" for n in range(20))
    assert all(f.text == long.text for f in feedback.read(path))


def test_a_damaged_line_is_skipped_with_a_warning_naming_the_file_and_line(tmp_path, passages, caplog):
    path = tmp_path / "feedback.jsonl"
    good = [feedback.record(path, CO_CHAIR, p, True) for p in passages[CO_CHAIR][:2]]
    first, second = path.read_bytes().split(b"\n")[:2]
    damaged = [first, first[:40], b'{"question": "no verdict"}', b"\xff\xfe not text", b"[1, 2]", second]
    path.write_bytes(b"\n".join(damaged) + b"\n")

    with caplog.at_level(logging.WARNING, logger="qa.feedback"):
        ratings = feedback.read(path)

    assert ratings == good
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4
    for number, warning in zip((2, 3, 4, 5), warnings):
        assert str(path) in warning and f"line {number} " in warning


def test_a_rating_after_a_line_cut_short_still_gets_a_line_of_its_own(tmp_path, passages):
    path = tmp_path / "feedback.jsonl"
    feedback.record(path, CO_CHAIR, passages[CO_CHAIR][0], True)
    with open(path, "ab") as handle:
        handle.write(b'{"question": "killed mid-wri')  # a writer that died before its newline

    rating = feedback.record(path, MIRAI, passages[MIRAI][0], True)

    assert [f.question for f in feedback.read(path)] == [CO_CHAIR, MIRAI]
    assert feedback.read(path)[-1] == rating


# --- regression questions ------------------------------------------------------------------------


def test_as_questions_keeps_helpful_sources_and_the_latest_verdict(tmp_path, passages, caplog):
    path = tmp_path / "feedback.jsonl"
    a, b, c = passages[CO_CHAIR][:3]
    m = passages[MIRAI][0]
    ratings = [
        (CO_CHAIR, a, True), (CO_CHAIR, c, True), (CO_CHAIR, b, True), (CO_CHAIR, c, False),  # c: changed mind
        (MIRAI, m, False), (MIRAI, m, True),  # changed mind the other way
        (CABLES, passages[CABLES][0], False),  # only unhelpful: no question
    ]
    for question, passage, helpful in ratings:
        feedback.record(path, question, passage, helpful)

    with caplog.at_level(logging.INFO, logger="qa.feedback"):
        questions = feedback.as_questions(feedback.read(path))

    assert questions == [
        {"id": "fb-1", "kind": "fact", "question": CO_CHAIR, "answers": [a.quote, b.quote], "doc": a.doc_id},
        {"id": "fb-2", "kind": "fact", "question": MIRAI, "answers": [m.quote], "doc": m.doc_id},
    ]
    assert "2 unhelpful" in caplog.text  # c for the co-chair question, and the cables source
    assert load_questions(path) == questions  # qa eval reads the feedback file as it is


def test_load_questions_still_reads_question_files(tmp_path):
    path = tmp_path / "questions.jsonl"
    rows = [{"id": "a", "kind": "fact", "question": CO_CHAIR, "answers": ["Henna Virkkunen"]},
            {"id": "b", "kind": "out_of_scope", "question": "What is the recipe for a margherita pizza?"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")

    assert load_questions(path) == rows


# --- qa eval on a feedback file ------------------------------------------------------------------


def test_qa_eval_on_a_feedback_file_finds_the_recorded_passages(tmp_path, passages, workspace):
    path = tmp_path / "feedback.jsonl"
    for question, found in passages.items():
        feedback.record(path, question, found[0], True)
    feedback.record(path, CABLES, passages[CABLES][1], False)

    result = CliRunner().invoke(main, ["eval", str(path), "--no-baselines"], env=workspace)

    assert result.exit_code == 0, result.output
    assert "this project" in result.output
    table = result.output[result.output.index("answer-hit@1"):]  # after the model's loading bar, if any
    metrics = dict(line.rsplit(None, 1) for line in table.splitlines() if line.strip())
    assert metrics["answer-hit@5"] == "1.00"


def test_qa_eval_on_a_feedback_file_without_a_thumbs_up_says_so(tmp_path, passages, workspace):
    path = tmp_path / "feedback.jsonl"
    feedback.record(path, CO_CHAIR, passages[CO_CHAIR][0], True)
    feedback.record(path, CO_CHAIR, passages[CO_CHAIR][0], False)  # changed mind: no thumbs up left
    feedback.record(path, MIRAI, passages[MIRAI][0], False)

    result = CliRunner().invoke(main, ["eval", str(path)], env=workspace)

    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert "no source rated helpful" in result.output and "thumbs up" in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- where the file lives ------------------------------------------------------------------------


def test_feedback_path_is_the_argument_then_qa_feedback_file_then_the_index_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    assert config.feedback_path() == tmp_path / "index" / "feedback.jsonl"
    assert config.feedback_path(index_dir=tmp_path / "other") == tmp_path / "other" / "feedback.jsonl"

    monkeypatch.setenv("QA_FEEDBACK_FILE", str(tmp_path / "ratings.jsonl"))
    assert config.feedback_path() == tmp_path / "ratings.jsonl"
    assert config.feedback_path(tmp_path / "given.jsonl") == tmp_path / "given.jsonl"


def test_rebuilding_the_index_keeps_the_feedback_file(tmp_path, index_dir, embedder, passages):
    folder = tmp_path / "index"
    shutil.copytree(index_dir, folder)
    path = config.feedback_path(index_dir=folder)
    rating = feedback.record(path, CO_CHAIR, passages[CO_CHAIR][0], True)
    (folder / ".building-killed").mkdir()  # what a killed build leaves, removed by the next build

    for _ in range(3):  # enough builds for old generations to be removed
        build_index(CORPUS, folder, embedder=embedder)

    assert not (folder / ".building-killed").exists() and len(list(folder.glob("gen-*"))) == 2
    assert feedback.read(path) == [rating]
