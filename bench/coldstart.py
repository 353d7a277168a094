"""Cold start: from process start to the first answered question, for `qa ask` and for the web app.

The floor is a fresh Python process that imports sentence_transformers, loads the same model and
embeds one question: no search can answer sooner.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import measure
from qa.config import REPOSITORY

QUESTION = "Who leads the 6G MIRAI-HARMONY project?"
APP_TIMEOUT = 180.0  # seconds to wait for the app's first answer
BARE_LOAD = """
from sentence_transformers import SentenceTransformer
from qa.vectors import DEFAULT_MODEL, model_path
SentenceTransformer(model_path(DEFAULT_MODEL), device="cpu").encode([{question!r}])
"""


def environment(corpus_dir: Path, index_dir: Path) -> dict[str, str]:
    return os.environ | {"QA_CORPUS_DIR": str(corpus_dir), "QA_INDEX_DIR": str(index_dir),
                         "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def bare_model_load() -> float:
    """Seconds for a new process to import sentence_transformers, load the model and embed one question."""
    code = BARE_LOAD.format(question=QUESTION)
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return measure.seconds(lambda: subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                                  capture_output=True))


def qa_ask(corpus_dir: Path, index_dir: Path) -> float:
    """Seconds for `qa ask QUESTION` on a built index, process start to exit."""
    command = [sys.executable, "-m", "qa", "ask", QUESTION]
    env = environment(corpus_dir, index_dir)
    return measure.seconds(lambda: subprocess.run(command, env=env, check=True, capture_output=True))


def app_first_answer(corpus_dir: Path, index_dir: Path) -> float:
    """Seconds from starting `python app.py` to the first answer through gradio_client."""
    started = time.perf_counter()
    with running_app(corpus_dir, index_dir):
        return time.perf_counter() - started


@contextlib.contextmanager
def running_app(corpus_dir: Path, index_dir: Path):
    """`python app.py` in its own process on a free port; yields its URL once it has answered a question."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, str(REPOSITORY / "app.py"), "--port", str(port)],
                              env=environment(corpus_dir, index_dir), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"app.py exited with code {server.returncode} before answering")
            if time.perf_counter() - started > APP_TIMEOUT:
                raise TimeoutError(f"app.py gave no answer within {APP_TIMEOUT:.0f} s")
            try:
                Client(url, verbose=False).predict(QUESTION, api_name="/ask")
                break
            except Exception:  # noqa: BLE001 - not up yet: connection refused, or the API not mounted
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cold_start(corpus_dir: Path, index_dir: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds of each start, repeat times, interleaved so load from elsewhere falls on all three."""
    samples: dict[str, list[float]] = {"bare": [], "qa ask": [], "app": []}
    for _ in range(repeat):
        samples["bare"].append(bare_model_load())
        samples["qa ask"].append(qa_ask(corpus_dir, index_dir))
        samples["app"].append(app_first_answer(corpus_dir, index_dir))
    return samples


def cold_start_table(samples: dict[str, list[float]]) -> str:
    floor = measure.p50(samples["bare"])
    names = {
        "bare": "bare: import sentence_transformers, load model, embed one question",
        "qa ask": "`qa ask` (subprocess, to exit)",
        "app": "`python app.py` until gradio_client gets an answer",
    }
    rows = [(names[name], len(s), f"{measure.p50(s):.2f} s", f"{max(s):.2f} s", measure.ratio(measure.p50(s), floor))
            for name, s in samples.items()]
    return measure.table(["start", "runs", "median", "max", "median / bare"], rows)
