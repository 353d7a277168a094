"""The qa command: the real console script where it matters, click's CliRunner where a process is not needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qa.cli import main

QA = Path(sys.executable).parent / "qa"
COMMANDS = ["add", "index", "ask", "serve", "eval"]
CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"} | (env or {})
    return subprocess.run([str(QA), *args], capture_output=True, text=True, env=environment, timeout=timeout)


# --- help ----------------------------------------------------------------------------------------


def test_the_console_script_is_installed():
    assert QA.exists(), f"{QA} is missing: install the project with pip install -e ."


def test_qa_help_lists_every_command():
    result = run("--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: qa ")
    commands = result.stdout.split("Commands:", 1)[1]
    for command in COMMANDS:
        assert f"\n  {command} " in commands


def test_help_does_not_import_torch():
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from qa.cli import main\n"
        f"for args in [['--help']] + [[c, '--help'] for c in {COMMANDS!r}]:\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {command} ") or result.output.startswith(f"Usage: qa {command} ")
    for parameter in main.commands[command].params:
        if isinstance(parameter, click.Option) and parameter.name != "help":
            assert parameter.help, f"qa {command} {parameter.opts[0]} has no help"


@pytest.mark.parametrize(
    "command",
    [
        command
        for command in COMMANDS
    ],
)
def test_every_command_help_shows_an_example(command):
    result = CliRunner().invoke(main, [command, "--help"])

    assert "Example" in result.output


def test_every_command_is_in_the_group_help():
    assert sorted(main.commands) == sorted(COMMANDS)


# --- qa index ------------------------------------------------------------------------------------


def test_index_prints_the_report(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Chips\n\nThe council agreed on semiconductor research.\n", encoding="utf-8")
    (corpus / "b.md").write_text("# Cables\n\nA submarine cable will cross the Arctic.\n", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a pdf\n")
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index")}

    first = CliRunner().invoke(main, ["index"], env=env)
    second = CliRunner().invoke(main, ["index"], env=env)

    assert first.exit_code == 0, first.output
    assert "documents: 2 added, 0 changed, 0 removed, 0 unchanged" in first.stdout
    assert "+ a.md" in first.stdout and "+ b.md" in first.stdout
    assert "skipped broken.pdf" in first.stdout
    assert second.exit_code == 0, second.output
    assert "0 added, 0 changed, 0 removed, 2 unchanged" in second.stdout
    assert " 0 embedded" in second.stdout
    assert (tmp_path / "index" / "CURRENT").exists()


def test_index_options_override_the_environment(tmp_path, workspace):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Chips\n\nThe council agreed on semiconductor research.\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")],
                                env=workspace)

    assert result.exit_code == 0, result.output
    assert "documents: 1 added" in result.stdout
    assert (tmp_path / "index" / "CURRENT").exists()


# --- qa ask --------------------------------------------------------------------------------------


def test_ask_prints_an_answer_and_numbered_citations(workspace):
    result = run("ask", CO_CHAIR, env=workspace)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip() and not lines[0].startswith("[")  # the answer comes first
    assert "[1]" in lines[0]
    citation = next(line for line in lines if line.startswith("[1] "))
    assert "European Commission" in citation
    assert "EU and Japan strengthen technological and digital cooperation" in citation
    assert "Traceback" not in result.stderr


def test_ask_json_is_valid_json(workspace):
    result = CliRunner().invoke(main, ["ask", "--json", "-k", "3", CO_CHAIR], env=workspace)

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "answer", "abstained", "small_talk", "corrected", "notice", "passages"}
    assert payload["notice"] == "" and payload["corrected"] == "" and payload["small_talk"] is False
    assert payload["question"] == CO_CHAIR
    assert payload["abstained"] is False
    assert "[1]" in payload["answer"]
    assert len(payload["passages"]) == 3
    first = payload["passages"][0]
    assert {"text", "score", "doc_id", "title", "publisher", "date", "url", "start", "end", "citation"} <= set(first)
    assert "European Commission" in first["citation"]


def test_ask_json_when_nothing_answers(workspace):
    result = CliRunner().invoke(main, ["ask", "--json", "What is the recipe for a classic margherita pizza?"],
                                env=workspace)

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["abstained"] is True
    assert payload["passages"] == []


def test_ask_human_output_when_nothing_answers(workspace):
    result = CliRunner().invoke(main, ["ask", "What is the recipe for a classic margherita pizza?"], env=workspace)

    assert result.exit_code == 0, result.output
    assert "Nothing" in result.stdout
    assert "[1]" not in result.stdout


def test_ask_shows_text_without_markdown_emphasis_markers_but_json_keeps_them(workspace):
    question = "Which department of the European Commission represents the EU in the Japan-EU Digital Partnership?"
    shown = CliRunner().invoke(main, ["ask", "-k", "1", question], env=workspace)
    data = CliRunner().invoke(main, ["ask", "--json", "-k", "1", question], env=workspace)

    assert shown.exit_code == 0 and data.exit_code == 0, shown.output + data.output
    assert "DG Connect" in shown.stdout and "**" not in shown.stdout
    assert "**" in json.loads(data.stdout)["passages"][0]["text"]  # the document's own characters


@pytest.mark.parametrize("question", ["", "   ", "???"], ids=["empty", "spaces", "marks"])
def test_a_question_without_words_is_a_one_line_error(workspace, question):
    result = CliRunner().invoke(main, ["ask", question], env=workspace)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an unexpected exception
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "Traceback" not in result.output


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("command", [["ask", CO_CHAIR], ["index"]], ids=["ask", "index"])
def test_a_missing_corpus_folder_is_a_one_line_error(tmp_path, command):
    env = {"QA_CORPUS_DIR": str(tmp_path / "no-corpus"), "QA_INDEX_DIR": str(tmp_path / "index")}

    result = CliRunner().invoke(main, command, env=env)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1


def test_ask_without_a_question_shows_usage():
    result = CliRunner().invoke(main, ["ask"])

    assert result.exit_code == 2
    assert "Missing argument 'QUESTION'" in result.output


def test_ask_says_when_a_long_question_was_cut(workspace):
    result = CliRunner().invoke(main, ["ask", CO_CHAIR + " Please." * 300], env=workspace)

    assert result.exit_code == 0, result.output
    assert "only its first 1,000 were searched" in result.stderr
    assert "Henna Virkkunen" in result.stdout


@pytest.mark.parametrize("question", ["what is it?", "' OR 1=1 --", "the of and"])
def test_ask_answers_a_question_of_stop_words_without_an_error(workspace, question):
    result = CliRunner().invoke(main, ["ask", question], env=workspace)

    assert result.exit_code == 0, result.output
    assert "Nothing in the documents answers this question." in result.stdout


def test_ask_says_what_it_searched_for_a_question_with_typos(workspace):
    result = CliRunner().invoke(main, ["ask", "semicondutor cooperation agreemnt"], env=workspace)

    assert result.exit_code == 0, result.output
    assert "Showing results for: semiconductor cooperation agreement" in result.stderr
    assert "[1]" in result.stdout
