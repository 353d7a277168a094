"""How the typo corrector scales with the corpus's vocabulary: rapidfuzz's scan (what qa.spelling does) beside
building SymSpell's table of deletions first (the alternative), on seeded random words.

    python -m bench.spelling [--words 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time
import resource

from qa.spelling import Speller

TYPOS = ("semicondutor", "cooperaton", "agreemnt", "partnrship", "councl", "zzqqxxw")


def vocabulary(words: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    made = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 12))) for _ in range(words)]
    return made + ["semiconductor", "cooperation", "agreement", "partnership", "council"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100_000, help="distinct words in the vocabulary")
    args = parser.parse_args(argv)
    words = vocabulary(args.words)

    speller = Speller([" ".join(words)])
    scan = []
    for typo in TYPOS * 3:
        started = time.perf_counter()
        speller.correct(typo)
        scan.append((time.perf_counter() - started) * 1000)

    from symspellpy import SymSpell

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
    for word in words:
        symspell.create_dictionary_entry(word, 1)
    build = time.perf_counter() - started
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1e3  # kilobytes on Linux

    print(f"vocabulary: {len(words):,} distinct words")
    print(f"rapidfuzz scan (qa.spelling): {statistics.median(scan):.1f} ms a word (median), nothing to build")
    print(f"SymSpell: {build:.1f} s and {peak:.0f} MB more peak memory to build its table before the first lookup")


if __name__ == "__main__":
    main()
