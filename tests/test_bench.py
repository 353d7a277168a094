"""The benchmarks (python -m bench) still run, at toy sizes; an index above ANN_THRESHOLD is HNSW and still answers."""

from __future__ import annotations

import json
import random
import sys

import numpy as np
import pytest
from conftest import CORPUS, REPOSITORY

import qa
from qa import index as index_module
from qa.documents import read_corpus
from qa.build import build_index, flat_index
from qa.index import Index

sys.path.insert(0, str(REPOSITORY))  # bench/ is not installed: it runs from the repository, as python -m bench
from bench import __main__ as suite
from bench import coldstart, corpus, fusion, measure, scale, speed
from bench.growth import SEEDS, grown_corpus, headerless


def test_generated_corpus_is_deterministic_english(tmp_path):
    first = corpus.write_corpus(tmp_path / "a", 3, paragraphs=2)
    second = corpus.write_corpus(tmp_path / "b", 3, paragraphs=2)
    assert [p.read_text() for p in sorted(first.iterdir())] == [p.read_text() for p in sorted(second.iterdir())]
    sentences = [corpus.sentence(random.Random(seed)) for seed in range(50)]
    assert all(15 <= len(s.split()) <= 30 and s.endswith(".") for s in sentences)
    assert len(set(corpus.questions(5))) == 5


def test_latency_against_the_floor(index):
    samples = speed.latency(index, speed.BUNDLED_QUESTIONS[:2], rounds=1)
    assert {name: len(s) for name, s in samples.items()} == {"retrieve": 2, "answer": 2, "floor": 2}
    assert "| floor |" in speed.latency_table(samples)


def test_build_throughput(tmp_path, embedder):
    small = corpus.write_corpus(tmp_path / "corpus", 2, paragraphs=2)
    result = speed.build_throughput(small, embedder, repeat=1)
    assert result["texts"] > result["chunks"] > 0
    assert "embedded texts/s" in speed.throughput_table(result)


def test_incremental_rebuild_embeds_only_the_added_document(tmp_path, embedder):
    result = speed.incremental(tmp_path, 3, embedder, repeat=1)
    assert result["embedded"] == result["added chunks"] > 0
    assert result["added"] == ("report-added.md",)
    assert "equal" in speed.incremental_table(result)


def test_cold_start_of_qa_ask(index_dir):
    seconds, peak = coldstart.qa_ask(CORPUS, index_dir), coldstart.peak_memory(CORPUS, index_dir)
    first = coldstart.import_and_retrieve(CORPUS, index_dir)
    samples = {name: [seconds] for name in coldstart.NAMES} | {
        "qa ask MB": [peak], "import qa": [first["import qa"]], "first retrieve": [first["first retrieve"]]}
    table = coldstart.cold_start_table(samples)
    assert seconds > 0 and peak > 0 and first["heavy"] == []
    assert "1.00x (1.00-1.00) of import torch" in table and "1.00x (1.00-1.00) of import gradio" in table
    assert "cold `qa ask` ≤ 1.0x" in suite.targets({"cold": samples})
    assert coldstart.free_port() > 0


@pytest.mark.parametrize("bare", [True, False], ids=["bare", "build_index"])
def test_scale_build_in_process(tmp_path, embedder, bare):
    small = corpus.write_corpus(tmp_path / "corpus", 2, paragraphs=3)
    built = scale.build_in_process(small, tmp_path / "index", bare, embedder)
    loaded = Index.load(tmp_path / "index", embedder=embedder)
    assert built["chunks"] == len(loaded.chunks) and built["peak_mb"] > 0
    assert loaded.sentences.ntotal == loaded.sentence_start[-1]


def test_scale_run_and_targets(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(scale, "build_subprocess", lambda c, i, bare: scale.build_in_process(c, i, bare, embedder))
    result = scale.scale_run(tmp_path, 30, bare=True, questions=2, rounds=1, embedder=embedder)
    assert result["recall"]["recall"] == 1.0  # HNSW over a few dozen vectors finds them all
    assert result["chunks"] > 0 and result["size"] > 0
    assert "(bare)" in scale.scale_table([result]) and "recall@10" in scale.recall_table([result])
    latency = {"retrieve": [2.0], "answer": [3.0], "floor": [1.0]}
    throughput = {"chunks": 1, "texts": 2, "build": 1.0, "bare all": 1.0, "bare chunks": 0.5}
    incremental = {"documents": 3, "full": 10.0, "rebuild": 0.1, "embedded": 2, "added chunks": 2}
    table = suite.targets({"latency": latency, "throughput": throughput, "incremental": incremental,
                           "scale": [result]})
    assert table.count("| yes |") + table.count("| **no** |") == 7


def test_markdown_table():
    assert measure.table(["a", "b"], [(1, 2)]) == "| a | b |\n|---|---|\n| 1 | 2 |"


def test_index_above_the_threshold_is_hnsw_and_agrees_with_exact_search(tmp_path, embedder, corpus_copy, monkeypatch):
    monkeypatch.setattr(index_module, "ANN_THRESHOLD", 10)
    build_index(corpus_copy, tmp_path, embedder=embedder)
    hnsw = Index.load(tmp_path, embedder=embedder)
    assert type(hnsw.dense).__name__ == type(hnsw.sentences).__name__ == "IndexHNSWFlat"
    alone, in_context, start = hnsw.sentence_cosines([0, 1], embedder.embed(["council"])[0])
    assert hnsw.vectors([0, 1]).shape == (2, hnsw.dense.d)
    assert len(alone) == len(in_context) == start[-1] == hnsw.sentence_start[2] and start[1] == hnsw.sentence_start[1]

    exact = flat_index(hnsw.dense.reconstruct_n(0, hnsw.dense.ntotal))
    for question in speed.BUNDLED_QUESTIONS[:4]:
        vector = embedder.embed([question])
        assert hnsw.dense.search(vector, 1)[1][0][0] == exact.search(vector, 1)[1][0][0]
    result = qa.answer("Who leads the 6G MIRAI-HARMONY project?", index=hnsw)
    assert not result.abstained

    # a rebuild reuses the HNSW index's stored vectors: nothing is re-embedded
    report = build_index(corpus_copy, tmp_path, embedder=embedder)
    assert report.embedded == 0
    assert np.allclose(Index.load(tmp_path, embedder=embedder).vectors([0]), hnsw.vectors([0]), atol=1e-6)


def test_fusion_grid_covers_the_simplex_and_bounds_what_fitting_finds(index, dev_questions, tmp_path):
    grid = list(fusion.simplex(3, 0.5))
    assert len(grid) == 6 and all(abs(w.sum() - 1) < 1e-9 and (w >= 0).all() for w in grid)

    questions_file = tmp_path / "questions.jsonl"
    questions_file.write_text("\n".join(json.dumps(q) for q in dev_questions[:6]) + "\n")
    questions = fusion.questions(index, questions_file)
    assert questions and all(q.signals.shape == (len(q.hits), len(fusion.SIGNALS)) for q in questions)
    assert all(((0 <= q.signals) & (q.signals <= 1)).all() for q in questions)

    # a set in which only the first signal tells the hits: fitting finds it, and the grid reaches 1.0
    rng = np.random.default_rng(0)
    told = []
    for n in range(8):
        x, hits = rng.random((10, 3)), np.zeros(10, dtype=bool)
        hits[n] = True
        x[n, 0] = 1.0
        x[n, 1:] = 0.0  # the other two signals point away from the hit
        told.append(fusion.Question(str(n), x, x[:, 1], hits))
    weights = fusion.fit(told, [0, 1, 2])
    assert weights[0] > max(weights[1:])
    assert fusion.ranks(told, lambda q: q.signals @ weights) == [1] * 8
    assert fusion.best_possible(told, [0, 1, 2], 0.25) == 1.0
    assert fusion.ranks(told, lambda q: q.blend) != [1] * 8
    assert "search() blend" in fusion.report({"dev": questions})


@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds beside the repository")
def test_the_headerless_corpus_holds_the_captures_and_every_other_text_without_its_header(tmp_path):
    grown = grown_corpus(tmp_path / "grown")
    texts = {d.doc_id: d.text for d in read_corpus(grown)[0]}

    bare = headerless(grown_corpus(tmp_path / "bare"))
    documents = read_corpus(bare)[0]

    assert {p.name for p in SEEDS.glob("*.txt")} <= {d.doc_id for d in documents}  # the five, as captured
    assert len(documents) == len(texts)
    assert not any(path.read_text(encoding="utf-8").startswith("---") for path in bare.iterdir())
    assert all(d.publisher == "" for d in documents)
    kept = {d.doc_id: d.text for d in documents if d.doc_id in texts}
    assert kept and all(text == texts[doc_id] for doc_id, text in kept.items())  # the text itself untouched
