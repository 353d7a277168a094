"""The web chat: ask the EU–Japan Digital Partnership documents a question, get quoted sentences and their sources.

Three pages: the chat (with filters, and thumbs up/down per source), Documents (list, upload, remove)
and a document view that shows a whole document with a cited passage highlighted in place.
Run with `python app.py` or `qa serve`; the index is opened (and built if missing) before the server starts.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from html import escape
from pathlib import Path

import gradio as gr

import qa
from qa import config, feedback, render
from qa.corpus import add_file, remove_file
from qa.documents import MAX_FILE_BYTES, SUFFIXES
from qa.errors import QAError
from qa.index import Index, build_index, open_index
from qa.retrieve import Passage

TITLE = "EU–Japan Digital Partnership — ask the documents"
DESCRIPTION = ("Answers are sentences quoted from the EU–Japan Digital Partnership documents, each with a numbered "
               "source you can open in place; when nothing in them answers, it says so.")
SHOWN_QUESTION_CHARS = 2000  # a pasted wall of text is shown cut; the answer says how much was searched
EXAMPLES = [
    "Who co-chaired the third Digital Partnership Council?",
    "Who leads the 6G MIRAI-HARMONY project?",
    "How has cooperation on semiconductors evolved?",
    "What was agreed on submarine cables?",
]
THEME = gr.themes.Soft(primary_hue="blue")
CSS = """
.copy-text { display: none; }
.source blockquote { margin: 0.3em 0; }
.source-actions { font-size: 0.9em; }
.copy-quote { text-decoration: underline; cursor: pointer; background: none; border: none; padding: 0; }
.document-text { white-space: pre-wrap; line-height: 1.55; }
.passage { background: rgba(120, 160, 255, 0.18); }
"""
# One listener for every "Copy quote with citation" button: chat messages are sanitised, so they carry no scripts.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy-quote");
  const text = button && button.closest(".source")?.querySelector(".copy-text")?.textContent;
  if (text) navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
});
</script>"""
SCROLL_TO_PASSAGE = "() => setTimeout(() => document.getElementById('passage')?.scrollIntoView({block: 'center'}), 300)"


def load_index(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None) -> Index:
    """Open the index (building it if it is missing or stale) and load the model, before any question arrives."""
    index = open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    index.embedder.embed(["warm up"])  # the model loads lazily; load it now so the first answer is quick
    return index


def build_demo(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None) -> gr.Blocks:
    """The app over the index of corpus_dir in index_dir (default: QA_CORPUS_DIR, QA_INDEX_DIR).

    Also serves the API endpoint /ask: one question in, the same answer as one HTML string out.
    """
    corpus_dir, index_dir = config.corpus_dir(corpus_dir), config.index_dir(index_dir)
    feedback_file = config.feedback_path(index_dir=index_dir)

    def current() -> Index:
        return open_index(corpus_dir, index_dir, config.embedder())

    def answer(question: str, since: str, until: str, publishers: list[str] | None,
               documents: list[str] | None = None) -> qa.Answer:
        # the index is looked up per question, so a rebuild (`qa index`, an upload) is picked up without a restart
        return qa.answer(question, corpus_dir=corpus_dir, index_dir=index_dir, since=since or None,
                         until=until or None, publishers=publishers or None, documents=documents or None)

    def ask(question: str, since: str = "", until: str = "", publishers: list[str] | None = None) -> str:
        """Answer a question from the documents: quoted sentences with [n] markers, then the numbered sources
        (HTML). Optionally only documents dated since/until (YYYY, YYYY-MM or YYYY-MM-DD) or by these publishers."""
        try:
            return render.answer_html(answer(question, since, until, publishers))
        except QAError as error:
            return render.error_block(error)

    def chat(message: str, history: list[dict], cited: list, since: str, until: str, publishers: list[str],
             documents: list[str]):
        """One turn: the question as typed (escaped), the answer, then each source as its own message so
        that each can get a thumbs up or down. cited runs parallel to history: the passage behind each message."""
        shown = message if len(message) <= SHOWN_QUESTION_CHARS else message[:SHOWN_QUESTION_CHARS] + " …"
        turn = [{"role": "user", "content": render.fold(escape(shown))}]
        try:
            result = answer(message, since, until, publishers, documents)
        except QAError as error:
            turn.append({"role": "assistant", "content": render.error_block(error)})
            return "", [*history, *turn], [*cited, None, None]
        passages = result.passages or result.closest
        turn.append({"role": "assistant", "content": render.answer_block(result)})
        turn += [{"role": "assistant", "content": render.source_block(n, p, mark=not result.abstained)}
                 for n, p in enumerate(passages, 1)]
        rated = [{"question": result.question, "passage": asdict(p)} for p in passages]
        return "", [*history, *turn], [*cited, None, None, *rated]

    def rate(cited: list, like: gr.LikeData) -> None:
        entry = cited[like.index] if isinstance(like.index, int) and like.index < len(cited) else None
        if entry:  # only sources are rated; the answer and the question have no entry
            feedback.record(feedback_file, entry["question"], Passage(**entry["passage"]), like.liked is True)

    def document_page(request: gr.Request) -> str:
        query = request.query_params
        document = current().documents.get(query.get("doc", ""))
        if document is None:
            return "<p>⚠️ This document is not in the index (it may have been removed). Ask again in the chat.</p>"
        numbers = [_int(query.get(key)) for key in ("start", "end", "mark_start", "mark_end")]
        return render.document_html(document, *numbers)

    def document_rows() -> list[list[str]]:
        documents = sorted(current().documents.values(), key=lambda d: (d.date, d.doc_id), reverse=True)
        return [[d.date, d.title, d.publisher, d.doc_id] for d in documents]

    def filter_choices():
        documents = current().documents.values()
        publishers = sorted({d.publisher for d in documents if d.publisher})
        titles = sorted((f"{d.title} ({d.date})" if d.date else d.title, d.doc_id) for d in documents)
        return gr.update(choices=publishers), gr.update(choices=titles)

    def listing():
        return gr.update(choices=sorted(current().documents), value=None), document_rows()

    def rebuild(progress: gr.Progress) -> str:
        progress(0.2, desc="Indexing: embedding the new passages…")
        report = build_index(corpus_dir, index_dir, embedder=current().embedder, progress=True)
        progress(1.0, desc="Done")
        current()  # switch to the new index now, not at the next question
        return report.summary()

    def upload(paths: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        if not paths:
            return "Choose one or more files first.", *listing()
        lines = []
        for path in paths:
            name = Path(path).name
            try:
                stored = add_file(corpus_dir, name, Path(path).read_bytes())
                lines.append(f"✅ {name} → {stored.name}")
            except (QAError, OSError) as error:
                lines.append(f"⚠️ {error}")
        if any(line.startswith("✅") for line in lines):
            lines.append(rebuild(progress))
        return "\n".join(lines), *listing()

    def remove(doc_id: str | None, progress=gr.Progress()):
        if not doc_id:
            return "Choose a document to remove first.", *listing()
        try:
            remove_file(corpus_dir, doc_id)
        except FileNotFoundError as error:
            return f"⚠️ {error}", *listing()
        return f"Removed {doc_id}.\n{rebuild(progress)}", *listing()

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        cited = gr.State([])
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(label="Answers", height=600, layout="panel", group_consecutive_messages=False,
                                     feedback_options=("Like", "Dislike"))
                question = gr.Textbox(placeholder="Ask about the EU–Japan Digital Partnership…", show_label=False,
                                      submit_btn=True, autofocus=True, max_lines=4, elem_id="question")
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=1, min_width=240):
                gr.Markdown("### Filters")
                since = gr.Textbox(label="From", placeholder="e.g. 2024 or 2024-05-01", elem_id="since")
                until = gr.Textbox(label="Until", placeholder="e.g. 2025-06", elem_id="until")
                publishers = gr.Dropdown(label="Publishers", multiselect=True, choices=[], elem_id="publishers")
                documents = gr.Dropdown(label="Documents", multiselect=True, choices=[], elem_id="documents")
                gr.Markdown("Rate each source with the thumbs under it: ratings go to a file that `qa eval` "
                            "turns into regression questions.")
        question.submit(chat, [question, chatbot, cited, since, until, publishers, documents],
                        [question, chatbot, cited], api_visibility="private")
        chatbot.like(rate, [cited], None, api_visibility="private")
        chatbot.clear(lambda: [], None, cited, api_visibility="private")
        demo.load(filter_choices, None, [publishers, documents], api_visibility="private")
        gr.api(ask, api_name="ask")

    with demo.route("Documents", "/documents"):
        gr.Markdown(f"## Documents\nAdd {', '.join(SUFFIXES)} files (up to {MAX_FILE_BYTES // 1_000_000} MB "
                    "each): they are indexed at once and can be asked about right away.")
        table = gr.Dataframe(headers=["date", "title", "publisher", "file"], interactive=False, wrap=True,
                             elem_id="document-list")
        files = gr.File(label="Add documents", file_count="multiple", file_types=list(SUFFIXES), elem_id="upload")
        add = gr.Button("Add and index", variant="primary", elem_id="add")
        with gr.Row():
            doomed = gr.Dropdown(label="Document to remove", choices=[], elem_id="doomed")
            drop = gr.Button("Remove and re-index", variant="stop", elem_id="remove")
        status = gr.Textbox(label="Status", interactive=False, lines=4, elem_id="status")
        outputs = [status, doomed, table]
        add.click(upload, [files], outputs, api_visibility="private")
        drop.click(remove, [doomed], outputs, api_visibility="private")
        demo.load(listing, None, [doomed, table], api_visibility="private")

    with demo.route("Document", f"/{render.DOCUMENT_PAGE}", show_in_navbar=False):
        shown = gr.HTML(elem_id="document-view")
        demo.load(document_page, None, shown, api_visibility="private").then(None, js=SCROLL_TO_PASSAGE)

    return demo


def launch(demo: gr.Blocks, **options) -> gr.Blocks:
    """Start the server with the app's theme, styles and copy button; options go to Blocks.launch."""
    demo.launch(theme=THEME, css=CSS, head=HEAD, max_file_size=MAX_FILE_BYTES, **options)
    return demo


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


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
    launch(build_demo(), server_name=args.host, server_port=args.port)
