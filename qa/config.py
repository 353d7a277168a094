"""Where the corpus, the index, the feedback file and the model come from: arguments first, then QA_* variables,
then defaults.

The one place that reads the environment, so the CLI, the app and qa.retrieve() agree.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from qa.vectors import DEFAULT_MODEL, PRECISIONS, Embedder

REPOSITORY = Path(__file__).resolve().parent.parent


def corpus_dir(value: str | Path | None = None) -> Path:
    return Path(value or os.environ.get("QA_CORPUS_DIR") or REPOSITORY / "corpus")


def index_dir(value: str | Path | None = None) -> Path:
    return Path(value or os.environ.get("QA_INDEX_DIR") or REPOSITORY / "index")


def feedback_path(value: str | Path | None = None, *, index_dir: str | Path | None = None) -> Path:
    """The file of thumbs up/down on sources: value, else QA_FEEDBACK_FILE, else feedback.jsonl in the index folder.

    The index folder is the one folder the app may write to; builds only add and remove gen-*, CURRENT, LOCK
    and .building-* there, so the feedback survives every rebuild.
    """
    return Path(value or os.environ.get("QA_FEEDBACK_FILE") or _index_folder(index_dir) / "feedback.jsonl")


_index_folder = index_dir  # feedback_path's keyword index_dir hides the function of that name


def cache_dir(value: str | Path | None = None) -> Path:
    """Where exports made once per installation are kept (qa.exports): value, else QA_CACHE_DIR, else a folder of
    the Python installation this runs in (the virtual environment): what is kept there is made from its packages."""
    return Path(value or os.environ.get("QA_CACHE_DIR") or Path(sys.prefix) / "share" / "eu-japan-qa")


def multilingual(value: bool | None = None) -> bool:
    """Whether builds add the multilingual view (Japanese questions, documents in other languages): value, else
    QA_MULTILINGUAL (0, off or false turns it off), else on. Off, the bundled corpus builds in 1.6x to 1.8x less
    time, 3.2x before the installation holds the multilingual export (BENCHMARKS, "The build with the multilingual
    view")."""
    if value is not None:
        return value
    return os.environ.get("QA_MULTILINGUAL", "1").strip().lower() not in ("0", "off", "false", "no")


def model_name(value: str | None = None) -> str:
    return value or os.environ.get("QA_MODEL") or DEFAULT_MODEL


def embedder(model: str | None = None, precision: str | None = None) -> Embedder:
    """The embedding model the settings name (QA_MODEL, QA_PRECISION); it loads on first use."""
    return Embedder(model_name(model), precision=precision_name(precision))


def precision_name(value: str | None = None) -> str:
    """auto (bf16 where the CPU computes it natively, else fp32), bf16 or fp32."""
    chosen = value or os.environ.get("QA_PRECISION") or "auto"
    if chosen not in PRECISIONS:
        raise ValueError(f"QA_PRECISION must be one of {', '.join(PRECISIONS)}, not {chosen!r}")
    return chosen
