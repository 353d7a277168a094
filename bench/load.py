"""Many people at once: concurrent gradio_client clients asking the real app on localhost.

    python -m bench.load [--clients 20] [--questions 5]

Each client asks its questions one after another, all clients at the same time; every reply must be
an answer with numbered sources. Prints the latency each asker saw (queueing included) and the errors.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure
from bench.coldstart import running_app
from qa.config import REPOSITORY
from qa.build import build_index

QUESTIONS = [
    "Who co-chaired the third Digital Partnership Council?",
    "Who leads the 6G MIRAI-HARMONY project?",
    "What was agreed on semiconductors?",
    "When will the fourth Digital Partnership Council take place?",
    "What did the EU and Japan agree on submarine cables?",
    "How much funding per year can the joint 6G project receive in Japan?",
    "What new security dialogue did Japan and the EU launch in 2023?",
]
DEADLINE = 300.0  # seconds for the whole run: a client still waiting then counts as an error
CLIENT_TIMEOUT = 60.0  # seconds one HTTP call may take


@dataclass
class LoadResult:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # exceptions, and replies without cited sources

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)


def is_cited_answer(reply: str) -> bool:
    """An answer with numbered sources, as qa.render.answer_html writes it."""
    return "<h4>Sources</h4>" in reply and "[1]" in reply


def run(url: str, clients: int, questions: int) -> LoadResult:
    """clients threads, each with its own gradio_client, asking questions in turn, all at once."""
    from gradio_client import Client

    result = LoadResult(clients)
    lock = threading.Lock()
    ready = threading.Barrier(clients)

    def asker(number: int) -> None:
        try:
            # httpx's default 5 s timeout would count a slow queue as a failure; a person in a browser waits
            client = Client(url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT})
        except Exception as error:  # noqa: BLE001 - every failure is counted, none may pass silently
            with lock:
                result.errors.append(f"client {number} could not connect: {error!r}")
            ready.abort()
            return
        try:
            ready.wait(timeout=DEADLINE)
        except threading.BrokenBarrierError:
            pass
        for turn in range(questions):
            question = QUESTIONS[(number + turn) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                reply = client.predict(question, api_name="/ask")
            except Exception as error:  # noqa: BLE001
                with lock:
                    result.errors.append(f"client {number}: {question!r} failed: {error!r}")
                continue
            with lock:
                if is_cited_answer(reply):
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.errors.append(f"client {number}: {question!r} got no cited answer: {reply[:200]!r}")

    threads = [threading.Thread(target=asker, args=(n,), daemon=True) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, DEADLINE - (time.perf_counter() - started)))
    result.seconds = time.perf_counter() - started
    missing = clients * questions - result.requests
    if missing > 0:
        result.errors.append(f"{missing} questions still unanswered after {DEADLINE:.0f} s")
    return result


def table(result: LoadResult) -> str:
    rows = [(result.clients, result.requests, len(result.errors), measure.ms(measure.p50(result.latencies)),
             measure.ms(measure.p95(result.latencies)), measure.ms(max(result.latencies)), f"{result.seconds:.1f} s")]
    return measure.table(["clients", "questions", "errors", "p50", "p95", "max", "all answered in"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5, help="Questions each client asks, one after another.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_index(REPOSITORY / "corpus", Path(tmp))
        with running_app(REPOSITORY / "corpus", Path(tmp)) as url:  # its own process: clients and server
            result = run(url, args.clients, args.questions)      # do not share one interpreter lock
    print(table(result))
    for error in result.errors:
        print(f"- {error}")


if __name__ == "__main__":
    main()
