"""Building, updating, saving and loading the index, on small corpora with the real model and real FAISS."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

import qa
from qa import index as index_module
from qa import text
from qa.chunks import chunk_document, searchable_text
from qa.documents import read_corpus, read_document
from qa.errors import EmptyCorpus, IndexCorrupt, IndexNotFound, ModelMismatch, QAError
from qa.build import build_index, is_stale, open_index
from qa.index import Index, evidence
from qa.store import KEEP_GENERATIONS, LOCK, POINTER, current_generation
from qa.vectors import Embedder

# each paragraph is longer than ChunkSettings.target_chars, so each becomes a chunk of its own
ALPHA = """---
title: Semiconductor cooperation
publisher: European Commission
date: 2024-04-30
---
# Semiconductor cooperation

The European Union and Japan agreed to work together on semiconductor research, covering heterogeneous
integration, advanced packaging and the design of low-power chips for data centres and vehicles alike.

Both sides will exchange information on subsidies for chip factories and build an early warning mechanism
so that a disruption of the semiconductor supply chain in one region is noticed quickly by the other one.
"""

BETA = """---
title: Quantum research call
publisher: European Commission
date: 2025-05-12
---
# Quantum research call

A joint research call on quantum computing was launched, with applications in biomedicine, materials
sciences and climate modelling, funded under Horizon Europe and by Japanese research agencies together.

Researchers from both sides will share access to quantum computers and testbeds, and exchange students and
staff between national laboratories for periods of up to two years under the new research programme.
"""

GAMMA = """---
title: Arctic cable route
publisher: Digital Agency
date: 2025-10-15
---
# Arctic cable route

A new submarine cable will cross the Arctic Ocean from Hokkaido to northern Finland, giving Europe and
Japan a direct subsea data link that avoids the congested routes through the Suez Canal and the Red Sea.

The cable route is planned to be ready for service in 2028, with landing stations in Japan and Finland
and a branch to Norway, and it will carry research and commercial traffic between the two regions.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def chunk_count(path: Path) -> int:
    return len(chunk_document(read_document(path, path.name)))


def make_corpus(folder: Path) -> Path:
    folder.mkdir()
    write(folder, "alpha.md", ALPHA)
    write(folder, "beta.md", BETA)
    return folder


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory, embedder) -> tuple[Path, Path]:
    """The small corpus and its index, built once for this module (a build takes a few seconds)."""
    base = tmp_path_factory.mktemp("small")
    corpus = make_corpus(base / "corpus")
    build_index(corpus, base / "index", embedder=embedder)
    return corpus, base / "index"


@pytest.fixture
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def index_path(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def built(prebuilt, corpus, index_path) -> Path:
    """A private copy of the small corpus's index, next to a private copy of the corpus."""
    shutil.copytree(prebuilt[1], index_path)
    return index_path


def test_first_build_adds_every_document_and_embeds_every_chunk(corpus, index_path, embedder):
    report = build_index(corpus, index_path, embedder=embedder)

    expected = chunk_count(corpus / "alpha.md") + chunk_count(corpus / "beta.md")
    assert expected >= 4
    assert report.added == ("alpha.md", "beta.md")
    assert report.changed == report.removed == report.unchanged == report.skipped == ()
    assert report.chunks == report.embedded == expected
    assert Path(report.path) == current_generation(index_path)
    assert "2 added" in report.summary() and f"{expected} embedded" in report.summary()


def test_loaded_index_matches_the_build(built, corpus, embedder):
    index = Index.load(built, embedder=embedder)

    assert sorted(index.documents) == ["alpha.md", "beta.md"]
    assert index.documents["alpha.md"].title == "Semiconductor cooperation"
    assert index.dense.ntotal == len(index.chunks)
    assert index.manifest["model"] == embedder.name
    assert index.manifest["dimension"] == embedder.dimension == index.dense.d
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_rebuild_without_changes_embeds_nothing(built, corpus, embedder):
    chunks = Index.load(built, embedder=embedder).chunks

    report = build_index(corpus, built, embedder=embedder)

    assert report.embedded == 0
    assert report.unchanged == ("alpha.md", "beta.md")
    assert report.added == report.changed == report.removed == ()
    assert report.chunks == len(chunks)
    assert Index.load(built, embedder=embedder).chunks == chunks


def test_reused_vectors_equal_fresh_ones(built, corpus, embedder):
    build_index(corpus, built, embedder=embedder)
    index = Index.load(built, embedder=embedder)

    stored = index.vectors(list(range(len(index.chunks))))
    fresh = embedder.embed([searchable_text(c, index.documents[c.doc_id]) for c in index.chunks])

    np.testing.assert_allclose(stored, fresh, atol=1e-5)


def test_adding_a_document_embeds_only_its_chunks_and_makes_it_retrievable(built, corpus, embedder):
    path = write(corpus, "gamma.md", GAMMA)

    report = build_index(corpus, built, embedder=embedder)

    assert report.added == ("gamma.md",)
    assert report.unchanged == ("alpha.md", "beta.md")
    assert report.embedded == chunk_count(path) >= 2
    index = Index.load(built, embedder=embedder)
    passages = qa.retrieve("Which submarine cable will cross the Arctic to Finland?", index=index)
    assert passages[0].doc_id == "gamma.md"
    assert passages[0].title == "Arctic cable route"


def test_changing_a_document_reembeds_only_the_changed_chunks(built, corpus, embedder):
    old = Index.load(built, embedder=embedder)
    old_texts = {searchable_text(c, old.documents[c.doc_id]) for c in old.chunks}
    write(corpus, "alpha.md", ALPHA.replace("early warning mechanism", "joint stockpile of critical chips"))

    report = build_index(corpus, built, embedder=embedder)

    new = Index.load(built, embedder=embedder)
    new_texts = [searchable_text(c, new.documents[c.doc_id]) for c in new.chunks]
    assert report.changed == ("alpha.md",)
    assert report.unchanged == ("beta.md",)
    assert report.added == report.removed == ()
    assert report.embedded == len([t for t in new_texts if t not in old_texts]) == 1
    assert any("joint stockpile" in c.text for c in new.chunks)
    assert not any("early warning" in c.text for c in new.chunks)


def test_editing_only_a_metadata_table_is_noticed_and_changes_the_citation(built, corpus, embedder):
    write(corpus, "gamma.txt", GAMMA.split("---\n")[2])  # without its header: a table beside it says what it is
    table = "| file | title | date |\n|---|---|---|\n| gamma.txt | {} | 2025-10-15 |\n"
    write(corpus, "METADATA.md", table.format("Arctic cable route"))
    build_index(corpus, built, embedder=embedder)
    assert not is_stale(corpus, built)

    write(corpus, "METADATA.md", table.format("Arctic cable plan"))  # the file itself is unchanged

    assert is_stale(corpus, built)
    report = build_index(corpus, built, embedder=embedder)
    assert report.changed == ("gamma.txt",)
    assert report.unchanged == ("alpha.md", "beta.md")
    assert [item.path for item in report.skipped] == ["METADATA.md"]
    index = open_index(corpus, built, embedder)
    passages = qa.retrieve("Which submarine cable will cross the Arctic to Finland?", index=index)
    assert (passages[0].doc_id, passages[0].title, passages[0].date) == ("gamma.txt", "Arctic cable plan", "2025-10-15")


def test_removing_a_document_drops_its_chunks(built, corpus, embedder):
    (corpus / "beta.md").unlink()

    report = build_index(corpus, built, embedder=embedder)

    index = Index.load(built, embedder=embedder)
    assert report.removed == ("beta.md",)
    assert report.unchanged == ("alpha.md",)
    assert report.embedded == 0
    assert list(index.documents) == ["alpha.md"]
    assert {c.doc_id for c in index.chunks} == {"alpha.md"}
    assert index.dense.ntotal == len(index.chunks) == report.chunks
    assert all(p.doc_id == "alpha.md" for p in qa.retrieve("quantum computing research call", index=index))


def test_removing_every_document_is_refused_and_the_previous_index_stays(built, corpus, embedder):
    for path in corpus.iterdir():
        path.unlink()

    with pytest.raises(EmptyCorpus, match="No readable document"):
        build_index(corpus, built, embedder=embedder)

    index = Index.load(built, embedder=embedder)
    assert set(index.documents) == {"alpha.md", "beta.md"}


def test_a_corrupt_file_is_skipped_and_the_others_are_indexed(corpus, index_path, embedder):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a real pdf\n%%EOF\n")
    (corpus / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "report.docx").write_bytes(b"PK\x03\x04")

    report = build_index(corpus, index_path, embedder=embedder)

    assert report.added == ("alpha.md", "beta.md")
    assert sorted(s.path for s in report.skipped) == ["broken.pdf", "empty.md", "junk.txt", "report.docx"]
    assert all(s.path in s.reason for s in report.skipped)
    assert "skipped broken.pdf" in report.summary()
    assert sorted(Index.load(index_path, embedder=embedder).documents) == ["alpha.md", "beta.md"]


def test_every_kind_of_bad_file_is_skipped_by_name_and_every_good_one_indexed(corpus, index_path, embedder):
    bad = {
        "binary.txt": bytes(range(256)) * 64,
        "empty.md": b"",
        "blank.txt": b" \n\t\n",
        "broken.pdf": b"%PDF-1.4\nnot a real pdf\n%%EOF\n",
        "page.html": b"<html><body><script>var x = 1;</script></body></html>",
        "copy-of-alpha.md": ALPHA.encode(),
        "vanished.md": None,  # a link to nothing: the file went away between listing and reading
    }
    for name, data in bad.items():
        if data is None:
            (corpus / name).symlink_to(corpus / "no-longer-here.md")
        else:
            (corpus / name).write_bytes(data)
    with (corpus / "huge.txt").open("wb") as handle:
        handle.truncate(50_000_000)
    (corpus / "legacy.txt").write_bytes("Caf\u00e9 cr\u00e8me: the Arctic cable costs \u20ac1 billion.".encode("cp1252"))

    report = build_index(corpus, index_path, embedder=embedder)

    assert sorted(s.path for s in report.skipped) == sorted([*bad, "huge.txt"])
    assert all(s.path in s.reason for s in report.skipped)
    assert sorted(Index.load(index_path, embedder=embedder).documents) == ["alpha.md", "beta.md", "legacy.txt"]


# --- FAISS against a NumPy reference -------------------------------------------------------------

QUERIES = {
    "co-chair": "Who co-chaired the third Digital Partnership Council?",
    "semiconductors": "semiconductor supply chain early warning",
    "off-topic": "What is the recipe for a classic margherita pizza?",
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_dense_search_equals_numpy_brute_force(index, embedder, query):
    vector = embedder.embed([query])[0]
    everything = index.vectors(list(range(len(index.chunks))))
    reference = everything @ vector
    n = 10

    found = dict(index.dense_scores(vector, n))  # {chunk number: cosine}, best first

    assert len(found) == n
    ids, scores = list(found), np.array(list(found.values()))
    np.testing.assert_allclose(scores, np.sort(reference)[::-1][:n], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores, reference[ids], rtol=1e-5, atol=1e-5)
    assert list(scores) == sorted(scores, reverse=True)
    assert ids[0] == int(np.argmax(reference))


def test_stored_vectors_are_unit_length(index):
    vectors = index.vectors(list(range(len(index.chunks))))

    assert vectors.shape == (len(index.chunks), index.dense.d)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_asking_for_more_results_than_chunks_returns_every_chunk(built, embedder):
    index = Index.load(built, embedder=embedder)

    found = dict(index.dense_scores(embedder.embed(["chips"])[0], 1000))

    assert sorted(found) == list(range(len(index.chunks)))


# --- loading errors ------------------------------------------------------------------------------


def test_loading_an_empty_folder_says_to_run_qa_index(tmp_path, embedder):
    with pytest.raises(IndexNotFound, match="qa index"):
        Index.load(tmp_path, embedder=embedder)


def test_loading_a_missing_folder_raises_index_not_found(tmp_path, embedder):
    with pytest.raises(IndexNotFound):
        Index.load(tmp_path / "nowhere", embedder=embedder)


def test_a_truncated_faiss_file_is_reported_as_corrupt(built, embedder):
    dense = current_generation(built) / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 2])

    with pytest.raises(IndexCorrupt, match="qa index"):
        Index.load(built, embedder=embedder)


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / "chunks.jsonl").write_text("{not json\n"),
        lambda folder: (folder / "manifest.json").unlink(),
        lambda folder: (folder / "documents.jsonl").write_text('{"unexpected": 1}\n'),
        lambda folder: (folder / "chunks.jsonl").write_text(
            "".join((folder / "chunks.jsonl").read_text().splitlines(keepends=True)[:-1])
        ),
    ],
    ids=["bad-jsonl", "no-manifest", "wrong-fields", "chunk-missing"],
)
def test_damaged_index_files_are_reported_as_corrupt(built, embedder, damage):
    damage(current_generation(built))

    with pytest.raises(IndexCorrupt):
        Index.load(built, embedder=embedder)


def _files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


def _every_index_file(built: Path) -> list[str]:
    return _files_of(current_generation(built))


@pytest.mark.parametrize("how", ["cut short", "one byte changed", "removed", "emptied"])
def test_every_index_file_is_checked_on_load(built, embedder, how):
    names = _every_index_file(built)
    assert {"dense.faiss", "sentences.faiss", "in_context.npy", "titles.npy", "chunks.jsonl", "documents.jsonl",
            "rows.json"} <= set(names)
    assert any(name.startswith("keywords/") for name in names)
    for name in names:
        path = current_generation(built) / name
        original = path.read_bytes()
        if how == "cut short":
            path.write_bytes(original[: len(original) * 3 // 4])
        elif how == "one byte changed":
            middle = len(original) // 2
            path.write_bytes(original[:middle] + bytes([original[middle] ^ 0x01]) + original[middle + 1 :])
        elif how == "removed":
            path.unlink()
        else:
            path.write_bytes(b"")

        with pytest.raises(IndexCorrupt, match="qa index"):
            Index.load(built, embedder=embedder)
        path.write_bytes(original)
    Index.load(built, embedder=embedder)  # whole again


def test_an_index_cut_by_another_chunker_version_must_be_rebuilt(built, corpus, embedder):
    manifest = current_generation(built) / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"chunker_version": 1}))

    with pytest.raises(ModelMismatch, match="chunker.*qa index"):
        Index.load(built, embedder=embedder)
    reopened = open_index(corpus, built, embedder)  # where a rebuild is safe, it happens
    assert reopened.manifest["chunker_version"] != 1


def test_a_pointer_to_a_missing_generation_is_corrupt(built, embedder):
    (built / POINTER).write_text("gen-that-does-not-exist\n")

    with pytest.raises(IndexCorrupt):
        Index.load(built, embedder=embedder)


def test_a_rebuild_recovers_from_a_damaged_index(built, corpus, embedder):
    dense = current_generation(built) / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[:100])

    report = build_index(corpus, built, embedder=embedder)

    assert report.embedded == report.chunks
    assert "re-embedded" in report.note
    assert Index.load(built, embedder=embedder).dense.ntotal == report.chunks


def test_loading_with_another_model_raises_model_mismatch(built):
    with pytest.raises(ModelMismatch, match="all-MiniLM-L6-v2"):
        Index.load(built, embedder=Embedder("some-other/model"))


def test_an_index_of_an_older_format_must_be_rebuilt(built, embedder):
    manifest = current_generation(built) / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"format": 0}))

    with pytest.raises(QAError, match="qa index"):
        Index.load(built, embedder=embedder)


# --- the folder on disk --------------------------------------------------------------------------


def test_the_index_folder_holds_only_the_pointer_the_lock_and_generations(built, corpus, embedder):
    write(corpus, "gamma.md", GAMMA)
    build_index(corpus, built, embedder=embedder)
    build_index(corpus, built, embedder=embedder)

    names = sorted(p.name for p in built.iterdir())

    generations = [name for name in names if name not in (POINTER, LOCK)]
    assert POINTER in names
    assert all(name.startswith("gen-") and (built / name).is_dir() for name in generations)
    assert 1 <= len(generations) <= KEEP_GENERATIONS
    assert current_generation(built).name in generations
    assert not [p for p in built.rglob(".*")]  # no staging folder or half-written pointer left behind
    assert {"manifest.json", "documents.jsonl", "chunks.jsonl", "dense.faiss"} <= {
        p.name for p in current_generation(built).iterdir()
    }


def test_the_manifest_records_how_the_index_was_built(built, corpus, embedder):
    manifest = json.loads((current_generation(built) / "manifest.json").read_text())

    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["chunker"] == {"target_chars": 280, "max_chars": 700, "hard_max_chars": 1500}
    assert set(manifest["documents"]) == {"alpha.md", "beta.md"}
    assert manifest["documents"]["alpha.md"]["sha256"] == read_document(corpus / "alpha.md").sha256
    assert manifest["chunks"] == len(Index.load(built, embedder=embedder).chunks)


def test_leftovers_of_a_killed_build_are_removed_by_the_next(built, corpus, embedder):
    staging = built / ".building-killed"
    staging.mkdir()
    (staging / "dense.faiss").write_bytes(b"half")
    (built / f".{POINTER}.12345").write_text("gen-never-switched\n")

    build_index(corpus, built, embedder=embedder)

    assert not staging.exists() and not (built / f".{POINTER}.12345").exists()


# --- builds while others build or read --------------------------------------------------------------


def test_a_second_build_waits_for_the_first(built, corpus, embedder):
    from qa.store import build_lock as _build_lock

    finished = threading.Event()
    with _build_lock(built):  # as if another process were building
        worker = threading.Thread(target=lambda: (build_index(corpus, built, embedder=embedder), finished.set()))
        worker.start()
        time.sleep(1.0)
        assert not finished.is_set()
    worker.join(timeout=60)
    assert finished.is_set()


def test_an_open_index_is_replaced_when_a_rebuild_switches_the_folder(built, corpus, embedder):
    before = open_index(corpus, built, embedder)
    assert open_index(corpus, built, embedder) is before  # loaded once, not per question
    write(corpus, "gamma.md", GAMMA)

    build_index(corpus, built, embedder=embedder)  # as `qa index` in another process would
    after = open_index(corpus, built, embedder)

    assert after is not before and "gamma.md" in after.documents
    passages = qa.retrieve("When will the Arctic cable be ready?", index=after)
    assert passages[0].doc_id == "gamma.md"


def test_an_unloadable_new_index_leaves_the_open_one_answering(built, corpus, embedder, caplog):
    before = open_index(corpus, built, embedder)
    write(corpus, "gamma.md", GAMMA)
    build_index(corpus, built, embedder=embedder)
    dense = current_generation(built) / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[:100])

    with caplog.at_level(logging.WARNING, logger="qa.index"):
        still = open_index(corpus, built, embedder)
        again = open_index(corpus, built, embedder)

    assert still is before and again is before
    assert [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
    assert len([r for r in caplog.records if "cannot be loaded" in r.getMessage()]) == 1  # not retried per question
    assert qa.retrieve("semiconductor supply chain", index=still)


def test_sentence_cosines_read_each_chunks_own_sentences_in_any_order(built, embedder):
    index = Index.load(built, embedder=embedder)
    vector = embedder.embed(["Where will the next council meet?"])[0]
    chunks = [2, 0, len(index.chunks) - 1]

    alone, in_context, start = index.sentence_cosines(chunks, vector)

    for j, chunk in enumerate(chunks):
        first, last = index.sentence_start[chunk], index.sentence_start[chunk + 1]
        np.testing.assert_allclose(alone[start[j] : start[j + 1]],
                                   index.sentences.reconstruct_n(int(first), int(last - first)) @ vector, rtol=1e-6)
        np.testing.assert_allclose(in_context[start[j] : start[j + 1]],
                                   index.in_context[first:last].astype(np.float32) @ vector, rtol=1e-6)


def test_in_context_vectors_are_held_as_float32_within_the_budget_with_the_stored_values(built, embedder, monkeypatch):
    held = Index.load(built, embedder=embedder)
    monkeypatch.setattr(index_module, "IN_CONTEXT_FLOAT32_BYTES", 0)  # past the budget: float16, cast per question
    stored = Index.load(built, embedder=embedder)
    vector = embedder.embed(["Where will the next council meet?"])[0]
    chunks = list(range(len(held.chunks)))

    assert (held.in_context.dtype, stored.in_context.dtype) == (np.float32, np.float16)
    np.testing.assert_array_equal(held.in_context, stored.in_context.astype(np.float32))
    np.testing.assert_array_equal(held.sentence_cosines(chunks, vector)[1], stored.sentence_cosines(chunks, vector)[1])


def test_a_searchs_evidence_is_the_index_evidence_of_the_question(index, embedder):
    """search() takes the cosine half from its candidates' searches instead of searching again: the same value."""
    from qa.retrieve import search

    for question in ("Who co-chaired the third Digital Partnership Council?", "How tall is Mount Everest?"):
        vector, terms = embedder.embed([question])[0], text.terms(question)
        english = np.flatnonzero(index.languages == "en")
        assert search(question, 5, index)[1] == evidence(index.dense, index.sentences, index.keywords, vector, terms)
        assert search(question, 5, index)[1] == index.evidence_among(vector, terms, np.arange(len(index.chunks)))
        assert index.nearest(vector) == index.nearest(vector, english) == evidence(
            index.dense, index.sentences, index.keywords, vector, frozenset())


def test_keyword_coverage_is_the_same_to_the_last_bit_in_every_process(tmp_path, dev_questions):
    """Sets iterate in an order that changes with each process's string hashing; the weights summed
    for the evidence must not, or whether a question is answered could differ between two runs."""
    documents, _ = read_corpus(CORPUS)
    texts = [searchable_text(chunk, document) for document in documents for chunk in chunk_document(document)]
    (tmp_path / "input.json").write_text(json.dumps([texts, [q["question"] for q in dev_questions]]))
    script = (
        "import json, sys\n"
        "from qa.build import keyword_index\n"
        "from qa.index import coverage\n"
        "from qa.text import terms as query_terms\n"
        "texts, questions = json.load(open(sys.argv[1]))\n"
        "keywords = keyword_index(texts)\n"
        "print([repr(coverage(keywords, query_terms(q))) for q in questions])\n"
    )
    runs = {
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "input.json")], capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": str(seed)}, timeout=120, check=True).stdout
        for seed in range(4)
    }

    assert len(runs) == 1
