"""The web chat: ask the EU–Japan Digital Partnership documents a question, get quoted sentences and their sources.

Run with `python app.py` or `qa serve`; the index is opened (and built if missing) before the server starts.
"""

from __future__ import annotations

import argparse
import os
import re
from functools import partial
from html import escape
from pathlib import Path

import gradio as gr

import qa
from qa import config
from qa.errors import QAError
from qa.index import Index, open_index

TITLE = "EU–Japan Digital Partnership — ask the documents"
DESCRIPTION = ("Answers are sentences quoted from the EU–Japan Digital Partnership documents, each with a numbered "
               "source; when nothing in them answers, it says so.")
SHOWN_QUESTION_CHARS = 2000  # a pasted wall of text is shown cut; the answer says how much was searched
EXAMPLES = [
    "Who co-chaired the third Digital Partnership Council?",
    "Who leads the 6G MIRAI-HARMONY project?",
    "How has cooperation on semiconductors evolved?",
    "What was agreed on submarine cables?",
]


def respond(message: str, history: list[dict], corpus_dir: str | Path | None = None,
            index_dir: str | Path | None = None) -> str:
    """Answer one chat message from the documents, as HTML. Each question stands alone, so history is unused.

    The index is looked up per question, so a rebuild (`qa index`) is picked up without a restart.
    """
    try:
        return format_answer(qa.answer(message, corpus_dir=corpus_dir, index_dir=index_dir))
    except QAError as error:
        return f"<p>⚠️ {escape(str(error))}</p>"


def format_answer(answer: qa.Answer) -> str:
    """The quoted answer with its [n] markers, then the numbered sources; all document text is escaped."""
    if answer.abstained:
        blocks = [f"<p><strong>{escape(answer.text)}</strong><br>You asked: “{_fold(escape(answer.question))}”</p>"]
        if answer.closest:  # shown unmarked: a highlighted sentence would look like an answer
            blocks.append("<h4>Closest passages (low confidence)</h4>")
            blocks += [format_source(number, passage, mark=False) for number, passage in enumerate(answer.closest, 1)]
    else:
        blocks = [f"<p>{_fold(escape(answer.text))}</p>", "<h4>Sources</h4>"]
        blocks += [format_source(number, passage) for number, passage in enumerate(answer.passages, 1)]
    if answer.notice:
        blocks.insert(0, f"<p>ℹ️ {escape(answer.notice)}</p>")
    return "\n\n".join(blocks)


def format_source(number: int, passage: qa.Passage, *, mark: bool = True) -> str:
    """One numbered source: title linked to the original, publisher, date, place in the document, and the
    passage with the sentence that answers marked."""
    title = escape(passage.title or passage.doc_id)
    if passage.url.startswith(("https://", "http://")):  # never a javascript: link from a document's metadata
        title = f'<a href="{escape(passage.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    about = ", ".join(escape(part) for part in (passage.publisher, passage.date, passage.location) if part)
    text = escape(passage.text)
    if mark:
        start, end = passage.highlight
        before, quote, after = passage.text[:start], passage.text[start:end], passage.text[end:]
        text = f"{escape(before)}<mark>{escape(quote)}</mark>{escape(after)}"
    return f"<p><strong>[{number}]</strong> {title} — {about}</p>\n<blockquote>{_fold(text)}</blockquote>"


def _fold(html: str) -> str:
    # one line per block: a blank line would end the HTML block and let Markdown reinterpret the rest
    return re.sub(r"\s+", " ", html).strip()


def load_index(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None) -> Index:
    """Open the index (building it if it is missing or stale) and load the model, before any question arrives."""
    index = open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    index.embedder.embed(["warm up"])  # the model loads lazily; load it now so the first answer is quick
    return index


def build_demo(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None) -> gr.Blocks:
    """The chat page over the index of corpus_dir in index_dir (default: QA_CORPUS_DIR, QA_INDEX_DIR).

    Also serves the API endpoint /ask: one question in, the same HTML reply the chat shows out.
    """
    answer_html = partial(respond, history=[], corpus_dir=corpus_dir, index_dir=index_dir)

    def ask(question: str) -> str:
        """Answer a question from the documents: quoted sentences with [n] markers, then the numbered sources (HTML)."""
        return answer_html(question)

    def chat(message: str, history: list[dict]) -> tuple[str, list[dict]]:
        # the question is shown as typed, escaped: markup in it is text, as it is in documents
        shown = message if len(message) <= SHOWN_QUESTION_CHARS else message[:SHOWN_QUESTION_CHARS] + " …"
        turn = [{"role": "user", "content": _fold(escape(shown))}, {"role": "assistant", "content": answer_html(message)}]
        return "", [*history, *turn]

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        chatbot = gr.Chatbot(label="Answers", height=560, layout="panel", buttons=["copy"])
        question = gr.Textbox(placeholder="Ask about the EU–Japan Digital Partnership…", show_label=False,
                              submit_btn=True, autofocus=True, max_lines=4)
        gr.Examples(EXAMPLES, inputs=question)
        question.submit(chat, [question, chatbot], [question, chatbot], api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on. [default: 127.0.0.1]")
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", 7860)),
                        help="Port to listen on. [env: QA_PORT; default: 7860]")
    args = parser.parse_args()
    try:
        load_index()
    except QAError as error:
        raise SystemExit(f"Error: {error}") from error
    build_demo().launch(server_name=args.host, server_port=args.port)
