"""Cold start: from process start to the first answer, for `qa ask` and `qa serve`, each against the import it
cannot beat in the same run: a bare `import torch` (what answering imported before the question encoder was
exported to ONNX) and a bare `import gradio` (what the web app must import).

Every start is a new process on a built index. Rounds are interleaved, so load from elsewhere on the machine
falls on a start and its floor alike, and each round's ratio is kept: the table shows their median and range.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import measure

QUESTION = "Who leads the 6G MIRAI-HARMONY project?"
APP_TIMEOUT = 180.0  # seconds to wait for the app's first answer
# `qa ask` as it was before: questions embedded by the sentence-transformers Embedder (torch), all else the same
TORCH_ASK = """
import sys
from qa import build
from qa.cli import main
from qa.index import Index
from qa.vectors import Embedder

build._load = lambda index_dir, model: Index.load(index_dir, embedder=Embedder(model))
main(["ask", sys.argv[1]])
"""
# `qa ask`, the plain CLI, for peak_memory()
PLAIN_ASK = """
import sys
from qa.cli import main

main(["ask", sys.argv[1]])
"""
# prepended to a script: it prints its own peak resident memory at exit. VmHWM is the process's own; ru_maxrss
# (getrusage, wait4) also counts what the parent had resident when it forked the child
REPORT_PEAK = """
import atexit

def _peak():
    with open("/proc/self/status") as status:
        print("VmHWM", next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(_peak)
"""
# seconds of `import qa` and of the first qa.retrieve() in a new process, and whether torch came with them
IMPORT_AND_RETRIEVE = """
import json, sys, time
started = time.perf_counter()
import qa
imported = time.perf_counter()
qa.retrieve(sys.argv[1])
done = time.perf_counter()
print(json.dumps({"import qa": imported - started, "first retrieve": done - imported,
                  "heavy": sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)}))
"""


def environment(corpus_dir: Path, index_dir: Path) -> dict[str, str]:
    return os.environ | {"QA_CORPUS_DIR": str(corpus_dir), "QA_INDEX_DIR": str(index_dir),
                         "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run command to its end: (seconds, its standard output)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return time.perf_counter() - started, done.stdout


def bare_import(module: str) -> float:
    """Seconds for a new process to import module and exit."""
    return timed([sys.executable, "-c", f"import {module}"])[0]


def qa_ask(corpus_dir: Path, index_dir: Path, *, torch: bool = False) -> float:
    """Seconds of `qa ask QUESTION` on a built index, process start to exit. torch: as before the ONNX question
    encoder, questions embedded by the sentence-transformers Embedder."""
    command = [sys.executable, "-c", TORCH_ASK, QUESTION] if torch else [sys.executable, "-m", "qa", "ask", QUESTION]
    return timed(command, environment(corpus_dir, index_dir))[0]


def peak_memory(corpus_dir: Path, index_dir: Path, *, torch: bool = False) -> float:
    """Peak resident memory (MB) of the same `qa ask` as qa_ask(), in a run of its own."""
    code = REPORT_PEAK + (TORCH_ASK if torch else PLAIN_ASK)
    _, output = timed([sys.executable, "-c", code, QUESTION], environment(corpus_dir, index_dir))
    return int(output.split()[-1]) / 1024  # VmHWM is in kB


def import_and_retrieve(corpus_dir: Path, index_dir: Path) -> dict:
    """Seconds of `import qa` and of the first qa.retrieve() in a new process, and the heavy modules it imported."""
    _, output = timed([sys.executable, "-c", IMPORT_AND_RETRIEVE, QUESTION], environment(corpus_dir, index_dir))
    return json.loads(output.splitlines()[-1])


def app_first_answer(corpus_dir: Path, index_dir: Path) -> float:
    """Seconds from starting `qa serve` to the first answer through gradio_client."""
    started = time.perf_counter()
    with running_app(corpus_dir, index_dir):
        return time.perf_counter() - started


@contextlib.contextmanager
def running_app(corpus_dir: Path, index_dir: Path):
    """`qa serve` in its own process on a free port; yields its URL once it has answered a question."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)],
                              env=environment(corpus_dir, index_dir), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"qa serve exited with code {server.returncode} before answering")
            if time.perf_counter() - started > APP_TIMEOUT:
                raise TimeoutError(f"qa serve gave no answer within {APP_TIMEOUT:.0f} s")
            # a bare connect until the port listens: a gradio_client per try would take the server's cores (2)
            # and made its start look 1.7x slower than it is
            if not listening(port):
                time.sleep(0.05)
                continue
            try:
                Client(url, verbose=False).predict(QUESTION, api_name="/ask")
                break
            except Exception:  # noqa: BLE001 - listening, but the API not mounted yet
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cold_start(corpus_dir: Path, index_dir: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds (and peak MB) of each start, repeat rounds, each round every start once, and the load average."""
    samples: dict[str, list[float]] = {name: [] for name in (*NAMES, "qa ask MB", "qa ask, torch questions MB",
                                                             "import qa", "first retrieve", "load")}
    for _ in range(repeat):
        samples["load"].append(os.getloadavg()[0])
        samples["import torch"].append(bare_import("torch"))
        samples["qa ask"].append(qa_ask(corpus_dir, index_dir))
        samples["qa ask, torch questions"].append(qa_ask(corpus_dir, index_dir, torch=True))
        samples["qa ask MB"].append(peak_memory(corpus_dir, index_dir))
        samples["qa ask, torch questions MB"].append(peak_memory(corpus_dir, index_dir, torch=True))
        samples["import gradio"].append(bare_import("gradio"))
        samples["qa serve"].append(app_first_answer(corpus_dir, index_dir))
        first = import_and_retrieve(corpus_dir, index_dir)
        if first["heavy"]:
            raise RuntimeError(f"the question path imported {', '.join(first['heavy'])}")
        samples["import qa"].append(first["import qa"])
        samples["first retrieve"].append(first["first retrieve"])
    samples["load"].append(os.getloadavg()[0])
    return samples


NAMES = {
    "import torch": "bare `python -c \"import torch\"`",
    "qa ask": "`qa ask` (subprocess, to exit)",
    "qa ask, torch questions": "`qa ask` with questions embedded by torch, as before",
    "import gradio": "bare `python -c \"import gradio\"`",
    "qa serve": "`qa serve` until gradio_client gets an answer",
}
FLOORS = {"qa ask": "import torch", "qa ask, torch questions": "import torch", "qa serve": "import gradio"}


def ratios(samples: dict[str, list[float]], name: str) -> list[float]:
    """Each round's start of name over its floor in the same round."""
    return [value / floor for value, floor in zip(samples[name], samples[FLOORS[name]])]


def cold_start_table(samples: dict[str, list[float]]) -> str:
    rows = []
    for name, label in NAMES.items():
        runs = samples[name]
        if name in FLOORS:
            each = ratios(samples, name)
            against = (f"{measure.p50(each):.2f}x ({min(each):.2f}-{max(each):.2f}) of {FLOORS[name]}")
        else:
            against = "floor"
        peak = f"{max(samples[name + ' MB']):.0f} MB" if name + " MB" in samples else ""
        rows.append((label, len(runs), f"{measure.p50(runs):.2f} s", f"{max(runs):.2f} s", against, peak))
    table = measure.table(["start", "runs", "median", "max", "median ratio per round (range)", "peak memory"], rows)
    first = (f"`import qa`: {measure.ms(measure.p50(samples['import qa']))}; first `qa.retrieve()` in that process "
             f"(opens the index, loads the question encoder): {measure.ms(measure.p50(samples['first retrieve']))} "
             "(medians; neither imports torch, transformers or sentence_transformers, checked in each round)")
    load = samples.get("load") or [0.0]
    return (f"{table}\n\n{first}. Load average (1 min) from {min(load):.1f} to {max(load):.1f} "
            f"on {os.cpu_count()} cores.")
