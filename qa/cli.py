"""The qa command: add, index, ask, serve, eval. Thin calls into the library."""

from __future__ import annotations

import json
import logging
import re
import runpy
import sys
import threading
from dataclasses import asdict
from functools import wraps
from pathlib import Path

import click

from qa import config
from qa.errors import AlreadyInCorpus, QAError

CORPUS = click.option("--corpus", "corpus_dir", envvar="QA_CORPUS_DIR", type=click.Path(file_okay=False),
                      help="Folder of documents. [env: QA_CORPUS_DIR; default: corpus/]")
INDEX = click.option("--index", "index_dir", envvar="QA_INDEX_DIR", type=click.Path(file_okay=False),
                     help="Folder of the built index. [env: QA_INDEX_DIR; default: index/]")
MODEL = click.option("--model", envvar="QA_MODEL", help="sentence-transformers model name or folder. [env: QA_MODEL]")
PRECISION = click.option("--precision", envvar="QA_PRECISION", type=click.Choice(["auto", "bf16", "fp32"]),
                         help="Embed in bf16 (faster where the CPU has it) or exact fp32; questions are embedded "
                              "in fp32 either way. [env: QA_PRECISION; default: auto]")


def friendly(command):
    """Turn the library's errors into one-line messages instead of tracebacks."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except QAError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (model loading, embedding).")
def main(verbose: bool) -> None:
    """Ask questions about the EU–Japan Digital Partnership documents and get quoted, cited answers.

    \b
    Examples:
        qa add https://digital.go.jp/en/news/ report.pdf
        qa index
        qa ask "Who co-chaired the third Digital Partnership Council?"
        qa ask --json "Who leads the 6G MIRAI-HARMONY project?"
        qa serve
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


@main.command()
@CORPUS
@INDEX
@MODEL
@PRECISION
@friendly
def index(corpus_dir, index_dir, model, precision) -> None:
    """Build or update the index after documents were added, changed or removed.

    Only chunks whose text is new are embedded.

    \b
    Example:
        cp report.pdf corpus/ && qa index
    """
    import qa

    report = qa.build_index(corpus_dir, index_dir, model=model, precision=precision, progress=sys.stderr.isatty())
    click.echo(report.summary())


ADDRESS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # http://, https://, and ftp:// or file:// to be refused


@main.command()
@click.argument("sources", nargs=-1, required=True, metavar="URL|FILE...")
@CORPUS
@INDEX
@MODEL
@PRECISION
@friendly
def add(sources, corpus_dir, index_dir, model, precision) -> None:
    """Add documents by their web addresses or paths, then update the index once.

    A web page or file is fetched and cited by its address (recorded in the corpus folder's sources.csv);
    a local file is copied into the corpus folder. An address already added is left as it is. One that
    fails is reported and the others are still added; the exit code is then 1.

    \b
    Examples:
        qa add https://ec.europa.eu/commission/presscorner/detail/en/ip_25_1185
        qa add https://example.org/joint-statement.pdf ./notes/briefing.md
    """
    import qa
    from qa.corpus import add_address, add_path
    from qa.corpus import sources as addresses

    corpus = config.corpus_dir(corpus_dir)
    added, failed = 0, 0
    for source in sources:
        try:
            if ADDRESS.match(source):
                stored = add_address(corpus, source)
                click.echo(f"added {_shown(stored)} from {addresses(corpus).get(stored.name, source)}")
            else:
                stored = add_path(corpus, Path(source))
                click.echo(f"added {_shown(stored)} from {source}")
            added += 1
        except AlreadyInCorpus as error:  # not a failure: what was asked for is there
            click.echo(f"Note: {error}", err=True)
        except QAError as error:
            failed += 1
            click.echo(f"Error: {error}", err=True)
        except OSError as error:  # the corpus folder cannot be written: no other source would fare better
            raise click.ClickException(f"Could not write to {corpus} ({error.strerror}); check that the folder "
                                       "exists and is writable, or set --corpus") from error
    if added:
        report = qa.build_index(corpus, index_dir, model=model, precision=precision, progress=sys.stderr.isatty())
        click.echo(report.summary())
    if failed:
        sys.exit(1)


def _shown(path: Path) -> Path:
    """path as the user would type it: relative to the current folder when it is inside it."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path


@main.command()
@click.argument("question")
@click.option("-k", default=5, show_default=True, type=click.IntRange(min=1), help="How many passages to return.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and passages as JSON.")
@click.option("--since", metavar="DATE", help="Only documents dated on or after DATE: 2025, 2025-05 or 2025-05-12.")
@click.option("--until", metavar="DATE", help="Only documents dated on or before DATE: 2024, 2024-05 (to its end) "
              "or 2024-05-31.")
@click.option("--publisher", "publishers", metavar="NAME", multiple=True,
              help="Only documents by this publisher (whole name, any case). Repeat for several.")
@click.option("--document", "documents", metavar="DOC_ID", multiple=True,
              help="Only this document: its path in the corpus folder (doc_id in --json). Repeat for several.")
@CORPUS
@INDEX
@friendly
def ask(question, k, as_json, since, until, publishers, documents, corpus_dir, index_dir) -> None:
    """Answer QUESTION with quoted sentences and numbered, cited sources.

    \b
    Examples:
        qa ask "When will the fourth Digital Partnership Council take place?"
        qa ask --since 2025 --publisher "European Commission" "What was agreed on semiconductors?"
    """
    from qa.answer import answer
    from qa.render import plain, understanding

    result = answer(question, k, corpus_dir=corpus_dir, index_dir=index_dir, since=since, until=until,
                    publishers=publishers, documents=documents)
    if result.notice:
        click.echo(f"Note: {result.notice}", err=True)
    if understood := understanding(result):
        click.echo(understood, err=True)
    if as_json:
        payload = {
            "question": result.question,
            "answer": result.text,
            "abstained": result.abstained,
            "small_talk": result.small_talk,
            "corrected": result.corrected,
            "notice": result.notice,
            "passages": [asdict(p) | {"citation": p.citation} for p in result.passages],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    click.echo(plain(result.text))
    for number, passage in enumerate(result.passages, start=1):
        click.echo(f"\n[{number}] {passage.citation}")
        click.echo("    " + " ".join(plain(passage.text).split()))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar=["QA_HOST", "GRADIO_SERVER_NAME"],
              help="Address to listen on (0.0.0.0 for every interface). [env: QA_HOST, then GRADIO_SERVER_NAME]")
@click.option("--port", default=7860, show_default=True, type=int, envvar=["QA_PORT", "GRADIO_SERVER_PORT"],
              help="Port to listen on. [env: QA_PORT, then GRADIO_SERVER_PORT]")
@click.option("--mcp", is_flag=True, help="Also serve the question tool to AI assistants as an MCP server at "
              "/gradio_api/mcp/. [env: GRADIO_MCP_SERVER=True]")
def serve(host, port, mcp) -> None:
    """Start the web chat (the same as python app.py); the index is built first if needed.

    \b
    Examples:
        qa serve --port 8080
        GRADIO_SERVER_NAME=0.0.0.0 qa serve
        qa serve --mcp
    """
    sys.argv = ["app.py", "--host", host, "--port", str(port), *(["--mcp"] if mcp else [])]
    # the index and its question encoder open while app.py imports Gradio, which takes as long: the app then finds
    # them open (open_index keeps one per process), and answers as soon as its page is up
    threading.Thread(target=_open_index, name="open-index", daemon=True).start()
    runpy.run_path(str(config.REPOSITORY / "app.py"), run_name="__main__")


def _open_index() -> None:
    from qa.answer import answer
    from qa.build import open_index

    try:
        # one question answered fills what the first answer would otherwise make (a tenth of a second or more)
        answer(WARM_UP, index=open_index(config.corpus_dir(), config.index_dir(), config.embedder()))
    except QAError as error:  # app.py opens the index again, and says what is wrong
        logging.getLogger(__name__).info("could not open the index ahead of the app: %s", error)


WARM_UP = "When did the Digital Partnership Council meet?"


@main.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@click.option("-k", default=5, show_default=True, help="Passages per question.")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Also score the BM25 and fixed-size dense baselines in the same run.")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (for BENCHMARKS.md).")
@CORPUS
@INDEX
@friendly
def evaluate(questions, k, baselines, markdown, corpus_dir, index_dir) -> None:
    """Score retrieval and answers on a question file (JSONL: kinds fact, multi, out_of_scope).

    \b
    Example:
        qa eval ../shared/eval/dev_qa.jsonl
    """
    from qa import evaluate as evaluation

    results = evaluation.run(questions, k=k, corpus_dir=config.corpus_dir(corpus_dir),
                             index_dir=config.index_dir(index_dir), baselines=baselines)
    click.echo(evaluation.table(results, markdown=markdown))
    languages = evaluation.by_language(results[0])
    if len(languages) > 1:  # questions in several languages: this project's figures for each
        click.echo("\n" + evaluation.table(languages, markdown=markdown))
    misses = evaluation.misses(results[0])
    if misses:
        click.echo("\nMisses of " + results[0].name + ":")
        for line in misses:
            click.echo("  " + line)
