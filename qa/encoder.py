"""Embed questions without torch: the index's embedding model exported to ONNX, run by ONNX Runtime.

A build exports the sentence-transformers model in fp32, with its mean pooling and normalisation inside the graph,
to question.onnx beside the index, and the model's own tokenizer to tokenizer.json (export()); both are hashed in
the manifest and checked at load like every other file. Answering then needs onnxruntime, tokenizers and numpy:
no torch, transformers or sentence_transformers, whose imports took 6 of the 6.4 seconds of a cold `qa ask`.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import warnings
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from qa import store
from qa.errors import ModelMismatch, ModelNotAvailable

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE, TOKENIZER_FILE = "question.onnx", "tokenizer.json"
FILES = (MODEL_FILE, TOKENIZER_FILE)
EXPORT_VERSION = 1  # raise when export() writes another graph: a build then exports again instead of reusing
OPSET = 17
# what the exported graph takes, as the tokenizer gives it; a graph declares the ones its model uses
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Encoder:
    """Questions into unit-length float32 vectors with an ONNX export of the index's model, loaded on first use.

    Args:
        folder: the generation holding question.onnx and tokenizer.json.
        record: what the manifest says of them (manifest["question_encoder"]: model, dimension, max_length).
        model_file, tokenizer_file: the names of the graph and of its tokenizer.json in folder; no tokenizer for a
            graph whose texts are cut into tokens elsewhere (embed_tokens only: qa.multilingual).
        threads: ONNX Runtime's threads for one run (0: one per core).
    """

    precision = "fp32"  # the export's; the manifest's "precision" is that of the stored passage vectors

    def __init__(self, folder: Path, record: dict, model_file: str = MODEL_FILE,
                 tokenizer_file: str | None = TOKENIZER_FILE, threads: int = 0):
        self.folder = Path(folder)
        self.model_file, self.tokenizer_file, self.threads = model_file, tokenizer_file, threads
        self.name, self.dimension, self.max_length = record["model"], record["dimension"], record["max_length"]
        self._load_lock = threading.Lock()
        self._session = None

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def session(self):
        """The ONNX Runtime session, made on first use (once, whichever thread asks first)."""
        with self._load_lock:
            if self._session is None:
                self._session = self._load()
            return self._session

    def _load(self):
        import onnxruntime
        from onnxruntime.capi import onnxruntime_pybind11_state as failures

        options = onnxruntime.SessionOptions()
        # idle threads sleep rather than spin: on a busy machine spinning takes the cores the answer needs
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3  # errors only
        try:
            return onnxruntime.InferenceSession(str(self.folder / self.model_file), options,
                                                providers=["CPUExecutionProvider"])
        except (RuntimeError, failures.Fail, failures.InvalidProtobuf, failures.InvalidGraph,
                failures.NoSuchFile) as error:
            raise ModelNotAvailable(f"Cannot load the question encoder {self.folder / self.model_file} ({error}); "
                                    "rebuild the index with 'qa index'") from error

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        if self.tokenizer_file is None:
            raise TypeError(f"{self.folder / self.model_file} has no tokenizer here: give it tokens (embed_tokens)")
        tokenizer = Tokenizer.from_file(str(self.folder / self.tokenizer_file))
        # as sentence-transformers does: cut at the model's max_seq_length, pad each batch to its longest text
        # (a tokenizer.json may carry a fixed padding length of its own: all-MiniLM-L6-v2's pads to 128)
        padding = tokenizer.padding or {}
        tokenizer.no_truncation()
        tokenizer.enable_truncation(self.max_length)
        tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]"),
                                 pad_type_id=padding.get("pad_type_id", 0))
        return tokenizer

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts as rows of an (n, dimension) float32 array of unit vectors."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([str(text) for text in texts])
        return self.embed_tokens([e.ids for e in encodings], [e.attention_mask for e in encodings],
                                 [e.type_ids for e in encodings])

    def embed_tokens(self, ids: list[list[int]], attention_mask: list[list[int]],
                     token_type_ids: list[list[int]]) -> np.ndarray:
        """Embed texts already cut into tokens (rows of equal length, padded) as unit vectors."""
        import numpy as np

        given = {"input_ids": ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feeds = {put.name: np.asarray(given[put.name], dtype=np.int64) for put in self.session.get_inputs()}
        vectors = np.asarray(self.session.run(None, feeds)[0], dtype=np.float32)
        # the graph normalises already; again here, so inner product is cosine similarity to the last bit
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors)


def question_encoder(folder: Path, manifest: dict):
    """What questions to the generation in folder are embedded with: its ONNX export, or, for an index whose
    model could not be exported (a custom QA_MODEL), the sentence-transformers Embedder of its model."""
    record = manifest.get("question_encoder")
    if record is None:
        from qa.vectors import Embedder

        log.info("the index in %s has no question encoder: questions are embedded with torch", folder)
        return Embedder(manifest["model"])
    if record.get("model") != manifest.get("model") or record.get("dimension") != manifest.get("dimension"):
        # never happens to a build's own files; a generation put together by hand would compare other vectors
        raise ModelMismatch(f"The question encoder in {folder} is of {record.get('model')!r}, but the index was "
                            f"built with {manifest.get('model')!r}; rebuild it with 'qa index'")
    # the same files (by their hashes, checked at load) as an encoder already running: a rebuild's new generation
    # reuses its session instead of loading 90 MB again
    same = (record["max_length"], *store.hashes(manifest, FILES))
    running = _RUNNING.get(same)
    if running is not None and running.loaded:
        return running
    _RUNNING[same] = Encoder(folder, record)
    return _RUNNING[same]


_RUNNING: dict[tuple, Encoder] = {}  # by max_length and the SHA-256 of its files


_EXPORTS: dict[str, tuple[dict[str, Path], dict]] = {}  # one export per model and process, shared by its builds
_EXPORTING = threading.Lock()
_SCRATCH: list[tempfile.TemporaryDirectory] = []  # where they are; removed when the process ends


def exported(model: str) -> tuple[dict[str, Path], dict] | None:
    """The question encoder's files of model ({file name: path}) and their manifest record, exported once per
    process; None, with a warning, where the model cannot be exported (questions then go through torch)."""
    with _EXPORTING:
        if model not in _EXPORTS:
            if not _SCRATCH:
                _SCRATCH.append(tempfile.TemporaryDirectory(prefix="qa-encoder-"))
            folder = Path(_SCRATCH[0].name) / str(len(_EXPORTS))
            folder.mkdir()
            try:
                record = export(model, folder)
            except (RuntimeError, TypeError, ValueError, ModelNotAvailable) as error:  # torch.onnx's: RuntimeError
                log.warning("cannot export %s to ONNX (%s): questions will be embedded with torch", model, error)
                return None
            _EXPORTS[model] = ({name: folder / name for name in FILES}, record)
        return _EXPORTS[model]


def export(model: str, folder: Path) -> dict:
    """Export model (a sentence-transformers name or folder) in fp32 to folder/question.onnx, and its tokenizer to
    folder/tokenizer.json; return the manifest's record of them. Needs torch and the onnx package: build time only.

    The graph is the sentence-transformers model itself after its tokenizer (for all-MiniLM-L6-v2: BERT, mean
    pooling over the attention mask, L2 normalisation), traced on a padded batch so the mask stays an input.
    """
    import torch

    from qa.vectors import Embedder

    sentence_model = Embedder(model, precision="fp32").model
    features = sentence_model.preprocess(["a question", "a longer question, so that the first one is padded"])
    names = [name for name in INPUTS if name in features]
    tensors = {name for name, value in features.items() if isinstance(value, torch.Tensor)}
    if names[:2] != ["input_ids", "attention_mask"] or tensors - set(INPUTS):
        raise ValueError(f"its tokenizer gives {sorted(tensors)}, not {', '.join(INPUTS)}")
    constants = {name: value for name, value in features.items() if name not in tensors}  # modality: "text"

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = sentence_model

        def forward(self, *tensors):
            return self.model(constants | dict(zip(names, tensors)))["sentence_embedding"]

    axes = {name: {0: "texts", 1: "tokens"} for name in names} | {"embedding": {0: "texts"}}
    # the tracer warns of shapes read as Python numbers in transformers' masking; those hold for every input
    # (the mask is as long as the tokens), as the tests check against sentence-transformers on many lengths
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Graph().eval(), tuple(features[name] for name in names), str(folder / MODEL_FILE),
                          input_names=names, output_names=["embedding"], dynamic_axes=axes, opset_version=OPSET,
                          dynamo=False)  # the TorchScript exporter: the dynamo one needs onnxscript
    sentence_model[0].tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
    log.info("exported %s to %s", model, folder / MODEL_FILE)
    return {"model": model, "dimension": int(sentence_model.get_embedding_dimension()),
            "max_length": int(sentence_model.max_seq_length), "precision": "fp32", "export": EXPORT_VERSION,
            "opset": OPSET}


def reusable(previous: dict, model: str) -> bool:
    """Can a build keep the previous generation's question encoder for model (same model, same export)?"""
    record = previous.get("question_encoder") or {}
    return record.get("model") == model and record.get("export") == EXPORT_VERSION
