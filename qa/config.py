"""Where the corpus, the index and the model come from: arguments first, then QA_* variables, then defaults.

The one place that reads the environment, so the CLI, the app and qa.retrieve() agree.
"""

from __future__ import annotations

import os
from pathlib import Path

from qa.vectors import DEFAULT_MODEL

REPOSITORY = Path(__file__).resolve().parent.parent


def corpus_dir(value: str | Path | None = None) -> Path:
    return Path(value or os.environ.get("QA_CORPUS_DIR") or REPOSITORY / "corpus")


def index_dir(value: str | Path | None = None) -> Path:
    return Path(value or os.environ.get("QA_INDEX_DIR") or REPOSITORY / "index")


def model_name(value: str | None = None) -> str:
    return value or os.environ.get("QA_MODEL") or DEFAULT_MODEL
