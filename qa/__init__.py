"""Question answering over the EU–Japan Digital Partnership documents, with citations."""

from qa.answer import Answer, answer
from qa.build import BuildReport
from qa.errors import QAError
from qa.retrieve import Passage, retrieve


def build_index(corpus_dir=None, index_dir=None, *, model=None, precision=None, progress=False) -> BuildReport:
    """Build or update the index of a corpus folder; returns what changed.

    Args:
        corpus_dir: the documents (default: QA_CORPUS_DIR or the repository's corpus/).
        index_dir: where the index is written (default: QA_INDEX_DIR or the repository's index/).
        model: a sentence-transformers model name or folder (default: QA_MODEL or all-MiniLM-L6-v2).
        precision: "auto", "bf16" or "fp32" (default: QA_PRECISION or "auto"; see qa.vectors.Embedder).
    """
    from qa import build, config

    return build.build_index(
        config.corpus_dir(corpus_dir),
        config.index_dir(index_dir),
        embedder=config.embedder(model, precision),
        progress=progress,
    )


__all__ = ["Answer", "BuildReport", "Passage", "QAError", "answer", "build_index", "retrieve"]
