"""The web chat: ask the EU–Japan Digital Partnership documents a question, get quoted sentences and their sources.

Three pages: the chat (with filters, and thumbs up/down per source), Documents (list, upload, add by web address,
remove)
and a document view that shows a whole document with a cited passage highlighted in place.
Asking is open to everyone; adding and removing documents needs the admin password (QA_ADMIN_PASSWORD), and
with none set nobody can change the documents from the page.
Run with `python app.py` or `qa serve`; the index is opened (and built if missing) before the server starts.
With --mcp (or GRADIO_MCP_SERVER=True) the /ask tool is also an MCP server for AI assistants.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import logging
import os
import re
from dataclasses import asdict
from html import escape
from pathlib import Path

import gradio as gr

import qa
from qa import config, feedback, render, ui_text
from qa.corpus import add_address, add_file, remove_file
from qa.documents import MAX_FILE_BYTES, SUFFIXES
from qa.errors import QAError
from qa.build import build_index, open_index
from qa.index import Index
from qa.retrieve import Passage

TITLE = ui_text.EN["title"]  # the browser tab's title: Gradio does not translate it
SHOWN_QUESTION_CHARS = 2000  # a pasted wall of text is shown cut; the answer says how much was searched
HISTORY_QUESTIONS = 6  # a follow-up leans on the last question or two; older ones only cost time
FAILED = ("<p>⚠️ Something went wrong while answering this question (it has been logged). "
          "Please ask again, perhaps in other words.</p>")
MIN_PASSWORD_CHARS = 12  # an admin password guessable by hand is refused at start, not found out later
MARKER = re.compile(r"\[(\d+)\]")  # the answer's citations of its sources: "... in Tokyo. [1]"
# The page's words in the browser's language. Gradio's own translations use keys such as "label" and "status" for
# whole groups of its words, so ours are under "qa.".
I18N = gr.I18n(**{language: {f"qa.{key}": words[key] for key in words} for language, words in ui_text.TEXT.items()})
THEME = gr.themes.Soft(primary_hue="blue")
CSS = """
.copy-text { display: none; }
.source blockquote { margin: 0.3em 0; }
.source-actions { font-size: 0.9em; }
.copy-quote { text-decoration: underline; cursor: pointer; background: none; border: none; padding: 0; }
.document-text { white-space: pre-wrap; line-height: 1.55; }
.passage { background: rgba(120, 160, 255, 0.18); }
/* on a phone the chat fills the screen above the text box, so that an answer and its first source fit */
@media (max-width: 640px) { #chat { height: max(400px, calc(100dvh - 130px)) !important; } }
""" + "".join(  # Gradio shows examples untranslated, so each language has its own, shown by the page's <html lang>
    f"#examples-{language}:not(:lang({language})), #examples-en:lang({language}) {{ display: none; }}\n"
    for language in ui_text.EXAMPLES if language != "en")
# One listener for every "Copy quote with citation" button: chat messages are sanitised, so they carry no scripts.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy-quote");
  const text = button && button.closest(".source")?.querySelector(".copy-text")?.textContent;
  if (text) navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
});
</script>"""
SCROLL_TO_PASSAGE = "() => setTimeout(() => document.getElementById('passage')?.scrollIntoView({block: 'center'}), 300)"
# After each question, show its answer and first source rather than the bottom of the chat (its last, least relevant
# source): the question goes to the top of the chat's scrolling box, or its answer when the question would push the
# first source out of sight, and the box into the window (on a phone the page itself has scrolled to the text box).
# Run after two frames and again a little later, once Gradio has rendered the new messages.
SHOW_ANSWER = """() => {
  const show = () => {
    const asked = [...document.querySelectorAll('#chat [data-testid=user]')].pop()?.closest('.message-row');
    let box = asked?.parentElement;
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowY)) box = box.parentElement;
    if (!box) return;
    const top = (row) => row.getBoundingClientRect().top - box.getBoundingClientRect().top;
    const answer = asked.nextElementSibling, source = answer?.nextElementSibling;
    const fits = !source || top(source) - top(asked) + 80 < box.clientHeight;
    box.scrollTop += top(fits || !answer ? asked : answer) - 4;
    box.scrollIntoView({block: 'nearest'});
  };
  requestAnimationFrame(() => requestAnimationFrame(show));
  setTimeout(show, 300);
}"""
log = logging.getLogger("app")


def text(key: str) -> gr.i18n.I18nData:
    """The page's text for key, in the browser's language. In a string (a handler's message) Gradio translates the
    first of these only."""
    return I18N(f"qa.{key}")


def load_index(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None) -> Index:
    """Open the index (building it if it is missing or stale) and load the model, before any question arrives."""
    index = open_index(config.corpus_dir(corpus_dir), config.index_dir(index_dir), config.embedder())
    index.embedder.embed(["warm up"])  # the model loads lazily; load it now so the first answer is quick
    return index


def admin_password(value: str | None = None) -> str | None:
    """The password that lets a visitor add and remove documents: value, else QA_ADMIN_PASSWORD; None (nobody may)
    when it is empty or unset. There is no default password.

    Raises:
        ValueError: the password is shorter than MIN_PASSWORD_CHARS.
    """
    password = os.environ.get("QA_ADMIN_PASSWORD") if value is None else value
    if not password:
        return None
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"QA_ADMIN_PASSWORD must be at least {MIN_PASSWORD_CHARS} characters; make one with "
                         "python -c 'import secrets; print(secrets.token_urlsafe())'")
    return password


def signed_in(given: object, password: str | None) -> bool:
    """Whether given, as an event sent it, is the admin password; never when there is none."""
    if not password or not isinstance(given, str):
        return False
    # in constant time, so the time taken tells nothing of how much was right; as bytes, because compare_digest
    # refuses strings with characters beyond ASCII (and JSON can carry lone surrogates)
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), password.encode("utf-8", "surrogatepass"))


@contextlib.contextmanager
def _app_built_at_launch():
    """Build the page without the web app (FastAPI) that Gradio builds and throws away as it goes.

    Gradio builds a whole FastAPI app, some 85 routes each analysed by FastAPI and pydantic, when a Blocks opens its
    queue and again each time a `with` block of it ends: four times for this page and its two routes, about 0.1 s
    each, all before launch() builds the one that serves. Nothing reads the earlier ones (demo.app is None until
    launch; gr.mount_gradio_app builds its own).
    """
    create_app = gr.routes.App.__dict__["create_app"]
    gr.routes.App.create_app = staticmethod(lambda *args, **kwargs: None)
    try:
        yield
    finally:
        gr.routes.App.create_app = create_app


@_app_built_at_launch()
def build_demo(corpus_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
               password: str | None = None) -> gr.Blocks:
    """The app over the index of corpus_dir in index_dir (default: QA_CORPUS_DIR, QA_INDEX_DIR).

    Also serves the API endpoint /ask: one question in, the same answer as one HTML string out. Adding and
    removing documents needs password (default QA_ADMIN_PASSWORD; "" for nobody).
    """
    corpus_dir, index_dir = config.corpus_dir(corpus_dir), config.index_dir(index_dir)
    password = admin_password(password)
    feedback_file = config.feedback_path(index_dir=index_dir)

    def current() -> Index:
        return open_index(corpus_dir, index_dir, config.embedder())

    def answer(question: str, since: str, until: str, publishers: list[str] | None,
               documents: list[str] | None = None, history: list[str] | None = None) -> qa.Answer:
        # the index is looked up per question, so a rebuild (`qa index`, an upload) is picked up without a restart
        return qa.answer(question, history=(history or [])[-HISTORY_QUESTIONS:], corpus_dir=corpus_dir,
                         index_dir=index_dir, since=since or None, until=until or None,
                         publishers=publishers or None, documents=documents or None)

    def ask(question: str, since: str = "", until: str = "", publishers: list[str] | None = None,
            documents: list[str] | None = None, history: list[str] | None = None) -> str:
        """Answer a question about the EU–Japan Digital Partnership (summits, Digital Partnership Councils,
        semiconductors, 6G, AI, data, submarine cables, ...) from its official documents. The answer is sentences
        quoted from the documents with [n] markers, then the numbered sources (title, publisher, date, link,
        place in the document), as HTML; when nothing in the documents answers, it says so.

        Args:
            question: the question in English, e.g. "Who co-chaired the third Digital Partnership Council?"
            since: only documents dated on or after this (YYYY, YYYY-MM or YYYY-MM-DD); "" for no limit
            until: only documents dated on or before this (a year or month runs to its end); "" for no limit
            publishers: only documents by these publishers, whole names (e.g. "European Commission"); null for all
            documents: only these documents, by file name in the corpus (doc_id); null for all
            history: the conversation's earlier questions, oldest first, to read a follow-up ("And the second one?")
        """
        try:
            return render.answer_html(answer(question, since, until, publishers, documents, history))
        except QAError as error:
            return render.error_block(error)
        except Exception:  # noqa: BLE001 - the edge: a reply saying to ask again, not a traceback
            log.exception("/ask failed on %r", question)
            return FAILED

    def chat(message: str, history: list[dict], cited: list, since: str, until: str, publishers: list[str],
             documents: list[str]):
        """One turn: the question as typed (escaped), the answer, then each source as its own message so that
        each can get a thumbs up or down. cited runs parallel to history: for a question, the text as typed; for
        an answer or a source, the passages a rating of it is recorded for."""
        shown = message if len(message) <= SHOWN_QUESTION_CHARS else message[:SHOWN_QUESTION_CHARS] + " …"
        turn = [{"role": "user", "content": render.fold(escape(shown))}]
        asked = [entry["asked"] for entry, said in zip(cited, history)
                 if said.get("role") == "user" and entry and "asked" in entry]
        try:
            result = answer(message, since, until, publishers, documents, asked)
            passages = result.passages or result.closest
            replies = [render.answer_block(result)]
            replies += [render.source_block(n, p, mark=not result.abstained) for n, p in enumerate(passages, 1)]
        except QAError as error:
            result, replies = None, [render.error_block(error)]
        except Exception:  # noqa: BLE001 - the edge: the chat says to ask again, and the box stays usable
            log.exception("The chat failed on %r", message)
            result, replies = None, [FAILED]
        turn += [{"role": "assistant", "content": reply} for reply in replies]
        return "", [*history, *turn], [*cited, {"asked": message}, *ratings(result)]

    def ratings(result: qa.Answer | None) -> list[dict | None]:
        """What a rating of each reply message records: for the answer, the sources its [n] markers cite; for
        each source, itself. Small talk, abstentions and errors cite nothing."""
        if result is None:
            return [None]
        shown = result.passages or result.closest
        numbers = {int(n) for n in MARKER.findall(result.text)} if result.passages else set()
        per_message = [[p for n, p in enumerate(shown, 1) if n in numbers], *([p] for p in shown)]
        return [{"question": result.question, "passages": [asdict(p) for p in rated]} if rated else None
                for rated in per_message]

    def rate(cited: list, like: gr.LikeData) -> None:
        entry = cited[like.index] if isinstance(like.index, int) and like.index < len(cited) else None
        try:
            for passage in (entry or {}).get("passages", []):  # questions, small talk and errors record nothing
                feedback.record(feedback_file, entry["question"], Passage(**passage), like.liked is True)
        except OSError as error:
            log.exception("Could not record a rating in %s", feedback_file)
            gr.Warning(f"Your rating could not be saved ({error.strerror}): {feedback_file} must be writable "
                       "(or set QA_FEEDBACK_FILE).")

    def document_page(request: gr.Request) -> str:
        query = request.query_params
        document = current().documents.get(query.get("doc", ""))
        if document is None:
            return f"<p>⚠️ {text('not_in_index')}</p>"
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
        # the model builds (torch, bf16 where the CPU has it); the open index's embedder embeds questions only
        report = build_index(corpus_dir, index_dir, embedder=config.embedder(), progress=True)
        progress(1.0, desc="Done")
        current()  # switch to the new index now, not at the next question
        return report.summary()

    def refusal(given: str | None, request: gr.Request, change: str) -> str | None:
        """Why this event may not change the documents, or None if it may. Every write asks, whatever the page
        shows: anyone can send an event to the queue without the page, by its number."""
        if password is None:
            return str(text("writes_off"))
        if signed_in(given, password):
            return None
        log.warning("Refused to %s: wrong admin password, from %s", change, getattr(request.client, "host", "?"))
        return str(text("wrong_password"))

    def upload(paths: list[str] | None, given: str | None, request: gr.Request,
               progress=gr.Progress(track_tqdm=True)):
        if refused := refusal(given, request, "add documents"):
            return refused, gr.update(), gr.update()
        if not paths:
            return str(text("no_files")), *listing()
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

    def add_page(address: str | None, given: str | None, request: gr.Request,
                 progress=gr.Progress(track_tqdm=True)):
        if refused := refusal(given, request, "add a web page"):
            return refused, gr.update(), gr.update()
        if not isinstance(address, str) or not address.strip():
            return str(text("no_address")), *listing()
        try:
            stored = add_address(corpus_dir, address)
        except (QAError, OSError) as error:
            return f"⚠️ {error}", *listing()
        return f"✅ {address.strip()} → {stored.name}\n{rebuild(progress)}", *listing()

    def remove(doc_id: str | None, given: str | None, request: gr.Request, progress=gr.Progress()):
        if refused := refusal(given, request, "remove a document"):
            return refused, gr.update(), gr.update()
        if not doc_id:
            return str(text("no_document")), *listing()
        try:
            remove_file(corpus_dir, doc_id)
        except FileNotFoundError as error:
            return f"⚠️ {error}", *listing()
        return f"{text('removed')} {doc_id}.\n{rebuild(progress)}", *listing()

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(text("intro"))
        cited = gr.State([])
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                # autoscroll off: SHOW_ANSWER scrolls to the new answer instead of to the bottom (its last source)
                chatbot = gr.Chatbot(label=text("answers"), show_label=False, height=600, layout="panel",
                                     group_consecutive_messages=False, feedback_options=("Like", "Dislike"),
                                     autoscroll=False, elem_id="chat")
                question = gr.Textbox(placeholder=text("question"), show_label=False,
                                      submit_btn=True, autofocus=True, max_lines=4, elem_id="question")
                for language, examples in ui_text.EXAMPLES.items():
                    gr.Examples(examples, inputs=question, label=text("examples"), elem_id=f"examples-{language}")
            with gr.Column(scale=1, min_width=240):
                gr.Markdown(text("filters"))
                since = gr.Textbox(label=text("since"), placeholder=text("since_example"), elem_id="since")
                until = gr.Textbox(label=text("until"), placeholder=text("until_example"), elem_id="until")
                publishers = gr.Dropdown(label=text("publishers"), multiselect=True, choices=[], elem_id="publishers")
                documents = gr.Dropdown(label=text("documents"), multiselect=True, choices=[], elem_id="documents")
                gr.Markdown(text("rating_help"))
        question.submit(chat, [question, chatbot, cited, since, until, publishers, documents],
                        [question, chatbot, cited], api_visibility="private").then(None, js=SHOW_ANSWER)
        chatbot.like(rate, [cited], None, api_visibility="private")
        chatbot.clear(lambda: [], None, cited, api_visibility="private")
        demo.load(filter_choices, None, [publishers, documents], api_visibility="private")
        gr.api(ask, api_name="ask")

    with demo.route("Documents", "/documents"):  # the navbar's page names are not translated by Gradio
        gr.Markdown(text("documents_help"))
        table = gr.Dataframe(headers=["date", "title", "publisher", "file"], interactive=False, wrap=True,
                             elem_id="document-list")
        # the box is only the page's half: upload and remove check what it sent on the server, every time
        secret = gr.Textbox(label=text("admin_password"), type="password", visible=password is not None,
                            elem_id="admin-password")
        gr.Markdown(text("writes_off"), visible=password is None, elem_id="writes-off")
        files = gr.File(label=text("add_documents"), file_count="multiple", file_types=list(SUFFIXES),
                        elem_id="upload")
        add = gr.Button(text("add"), variant="primary", elem_id="add")
        with gr.Row(equal_height=True):
            address = gr.Textbox(label=text("address"), placeholder="https://…", scale=3, elem_id="address")
            fetch_page = gr.Button(text("add_address"), scale=1, elem_id="add-address")
        with gr.Row():
            doomed = gr.Dropdown(label=text("doomed"), choices=[], elem_id="doomed")
            drop = gr.Button(text("remove"), variant="stop", elem_id="remove")
        status = gr.Textbox(label=text("status"), interactive=False, lines=4, elem_id="status")
        outputs = [status, doomed, table]
        add.click(upload, [files, secret], outputs, api_visibility="private")
        fetch_page.click(add_page, [address, secret], outputs, api_visibility="private")
        drop.click(remove, [doomed, secret], outputs, api_visibility="private")
        demo.load(listing, None, [doomed, table], api_visibility="private")

    with demo.route("Document", f"/{render.DOCUMENT_PAGE}", show_in_navbar=False):
        shown = gr.HTML(elem_id="document-view")
        demo.load(document_page, None, shown, api_visibility="private").then(None, js=SCROLL_TO_PASSAGE)

    return demo


def launch(demo: gr.Blocks, **options) -> gr.Blocks:
    """Start the server with the app's theme, styles, copy button and translations; options go to Blocks.launch."""
    # ssl_verify is only for launch()'s own request to the server it has just started, which starts the queue: left
    # on, httpx loads the CA certificates first (about 0.04 s of CPU) for a plain-HTTP request to itself
    options.setdefault("ssl_verify", False)
    demo.launch(theme=THEME, css=CSS, head=HEAD, i18n=I18N, max_file_size=MAX_FILE_BYTES, **options)
    return demo


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of `python app.py` (and `qa serve`): the flag, then this project's variable, then Gradio's
    own (as Docker images and Spaces set it), then the default."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=_env("QA_HOST", "GRADIO_SERVER_NAME") or "127.0.0.1",
                        help="Address to listen on. [env: QA_HOST, then GRADIO_SERVER_NAME; default: 127.0.0.1]")
    parser.add_argument("--port", type=int, default=_env("QA_PORT", "GRADIO_SERVER_PORT") or "7860",
                        help="Port to listen on. [env: QA_PORT, then GRADIO_SERVER_PORT; default: 7860]")
    parser.add_argument("--mcp", action="store_true",
                        help="Also serve the /ask tool to AI assistants as an MCP server at /gradio_api/mcp/. "
                             "[env: GRADIO_MCP_SERVER=True]")
    return parser.parse_args(argv)


def _env(*names: str) -> str | None:
    """The value of the first of these environment variables that is set."""
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


if __name__ == "__main__":
    args = arguments()
    try:
        demo = build_demo()  # first: a bad QA_ADMIN_PASSWORD is said at once, not after loading the index
        load_index()
    except (QAError, ValueError) as error:
        raise SystemExit(f"Error: {error}") from error
    # mcp_server=None lets Gradio read GRADIO_MCP_SERVER itself
    launch(demo, server_name=args.host, server_port=args.port, mcp_server=True if args.mcp else None)
