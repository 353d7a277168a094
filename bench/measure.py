"""Timing helpers and Markdown tables shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np


def seconds(call: Callable[..., object], *args: object) -> float:
    """Wall-clock seconds call(*args) takes."""
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def p50(samples: Sequence[float]) -> float:
    return float(np.percentile(samples, 50))


def p95(samples: Sequence[float]) -> float:
    return float(np.percentile(samples, 95))


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor > 0 else "n/a"


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def mb(size: float) -> str:
    return f"{size / 1e6:.1f} MB"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
