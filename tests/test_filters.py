"""Filters by date, publisher and document: only allowed documents answer, a narrow filter still finds its best
passages, a filter that allows nothing says so, a bad date says how to write one. Real model, real index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import qa
from qa import index as index_module
from qa.answer import NOTHING_FOUND, NO_DOCUMENT_MATCHES
from qa.cli import main
from qa.documents import Document
from qa.errors import BadFilter, QAError
from qa.build import ann_index, build_index, flat_index
from qa.index import Index, search_among
from qa.filters import Filters
from qa.retrieve import CANDIDATES, search

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"
SEMICONDUCTORS = "How has cooperation on semiconductors evolved?"
DATES = {"2022-05-12", "2023-07-14", "2024-05-01", "2025-05-12", "2025-10-15"}  # of the bundled documents
COMMISSION = "European Commission"  # the 2025-05-12 press release; the 2022 one is "European Commission (Shaping ...)"


def document(date: str = "", publisher: str = "", doc_id: str = "a.md") -> Document:
    return Document(doc_id=doc_id, text="Some text.", title="A", publisher=publisher, date=date)


# --- which documents a filter allows (no model) ---------------------------------------------------


@pytest.mark.parametrize(
    "filters, date, allowed",
    [
        (Filters(since="2025"), "2025-01-01", True),
        (Filters(since="2025"), "2024-12-31", False),
        (Filters(until="2024-05"), "2024-05-31", True),
        (Filters(until="2024-05"), "2024-06-01", False),
        (Filters(until="2024-02"), "2024-02-29", True),
        (Filters(since="2024-05-01", until="2024-05-01"), "2024-05-01", True),
        (Filters(until="2024"), "2024-12-31", True),
        (Filters(since="2024"), "", False),
        (Filters(), "", True),
    ],
    ids=["since-year-first-day", "since-year-day-before", "until-month-last-day", "until-month-day-after",
         "until-leap-day", "one-day", "until-year-last-day", "undated-with-a-bound", "undated-without"],
)
def test_dates_are_inclusive_and_padded_to_whole_years_and_months(filters, date, allowed):
    assert filters.allows(document(date=date)) is allowed


def test_publishers_match_whole_names_in_any_case():
    filters = Filters.of(publishers=["european commission", "The Japan Times"])

    assert filters.allows(document(publisher="European Commission"))
    assert filters.allows(document(publisher="The Japan Times"))
    assert not filters.allows(document(publisher="European Commission (Shaping Europe's digital future)"))
    assert not filters.allows(document(publisher=""))


def test_documents_match_doc_ids_and_one_name_is_not_split_into_letters():
    filters = Filters.of(documents="a.md")

    assert filters.documents == ("a.md",)
    assert filters.allows(document(doc_id="a.md")) and not filters.allows(document(doc_id="b.md"))


def test_empty_arguments_are_no_filter():
    assert Filters.of(since="", until=None, publishers=[], documents=None) == Filters()
    assert Filters.of(since=" 2025 ", publishers=["", " European Commission "]) == Filters("2025", "", (COMMISSION,))


@pytest.mark.parametrize("date", ["2025-13-40", "last year", "2025-02-30", "25", "2025/05", "2025-5"])
def test_a_malformed_date_is_a_bad_filter_that_names_the_accepted_forms(date):
    with pytest.raises(BadFilter) as error:
        Filters.of(since=date)
    with pytest.raises(BadFilter):
        Filters.of(until=date)

    assert date in str(error.value)
    assert "2025" in str(error.value) and "2025-05" in str(error.value) and "2025-05-12" in str(error.value)
    assert isinstance(error.value, QAError)


def test_a_start_after_the_end_is_a_bad_filter():
    with pytest.raises(BadFilter, match="after"):
        Filters.of(since="2025", until="2024-12")


# --- restricted FAISS search against NumPy ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
@pytest.mark.parametrize("allowed", [12, 2500], ids=["narrow", "wide"])
def test_search_among_matches_numpy_brute_force(monkeypatch, kind, allowed):
    monkeypatch.setattr(index_module, "ANN_THRESHOLD", 1000)  # so a wide selection takes HNSW's graph walk
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4000, 32)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    searcher = flat_index(vectors) if kind == "flat" else ann_index(vectors)
    rows = np.sort(rng.choice(len(vectors), allowed, replace=False))
    query = vectors[rows[0]] + 0.5 * rng.standard_normal(32).astype("float32")
    query /= np.linalg.norm(query)

    scores, found = search_among(searcher, query, 10, rows)

    expected = rows[np.argsort(-(vectors[rows] @ query))[:10]]
    assert set(found) <= set(rows)
    assert np.all(np.diff(scores) <= 1e-6)  # best first
    if kind == "hnsw" and allowed > 1000:  # approximate: the graph walk, widened
        assert len(set(found) & set(expected)) >= 9
    else:
        assert list(found) == list(expected)


# --- the bundled corpus -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "since, until, dates",
    [
        ("2025", None, {"2025-05-12", "2025-10-15"}),
        (None, "2024-05", {"2022-05-12", "2023-07-14", "2024-05-01"}),
        ("2023-07-14", "2025-05", {"2023-07-14", "2024-05-01", "2025-05-12"}),
        ("2025-05-13", None, {"2025-10-15"}),
    ],
    ids=["since-year", "until-month", "range", "since-day"],
)
def test_a_date_range_returns_only_passages_of_documents_in_range(index, since, until, dates):
    for question in (CO_CHAIR, SEMICONDUCTORS):
        passages = qa.retrieve(question, 10, index=index, since=since, until=until)

        assert passages
        assert {p.date for p in passages} <= dates


def test_a_publisher_filter_returns_only_that_publishers_passages(index):
    passages = qa.retrieve(SEMICONDUCTORS, 10, index=index, publishers=["european commission"])

    assert passages and {p.publisher for p in passages} == {COMMISSION}


def test_several_publishers_and_documents_allow_any_of_them(index):
    by_publisher = qa.retrieve(SEMICONDUCTORS, 10, index=index, publishers=[COMMISSION, "The Japan Times"])
    chosen = {"2022-05-12-eu-japan-summit-digital-partnership.md", "2025-10-15-digital-agency-future-prospects.md"}
    by_document = qa.retrieve(SEMICONDUCTORS, 10, index=index, documents=chosen)

    assert {p.publisher for p in by_publisher} <= {COMMISSION, "The Japan Times"}
    assert len({p.doc_id for p in by_publisher}) == 2
    assert {p.doc_id for p in by_document} == chosen


def test_a_filter_answers_from_the_allowed_documents(index):
    council = qa.answer(CO_CHAIR, index=index, until="2024-05")  # before the third council: the second one

    assert not council.abstained
    assert all(p.date <= "2024-05-31" for p in council.passages)
    assert council.passages[0].date == "2024-05-01"
    assert "Kono" in council.text


def test_a_question_answered_only_outside_the_filter_abstains(index):
    question = "Where does Sebastian Maslow teach?"  # only the Japan Times article says

    assert not qa.answer(question, index=index).abstained
    filtered = qa.answer(question, index=index, publishers=[COMMISSION])

    assert filtered.abstained and filtered.text == NOTHING_FOUND
    assert all(p.publisher == COMMISSION for p in filtered.closest)


@pytest.mark.parametrize(
    "filters",
    [{"publishers": ["Nobody"]}, {"since": "2030"}, {"documents": ["missing.md"]},
     {"publishers": [COMMISSION], "until": "2023"}],
    ids=["publisher", "date", "document", "combined"],
)
def test_a_filter_that_matches_no_document_abstains_saying_so(index, filters):
    result = qa.answer(CO_CHAIR, index=index, **filters)

    assert qa.retrieve(CO_CHAIR, index=index, **filters) == []
    assert result.abstained and result.text == NO_DOCUMENT_MATCHES
    assert result.passages == () and result.closest == ()


@pytest.mark.parametrize("function", [qa.retrieve, qa.answer], ids=["retrieve", "answer"])
def test_a_bad_date_is_refused_before_any_index_is_opened(tmp_path, function):
    with pytest.raises(BadFilter, match="2025-05-12"):
        function(CO_CHAIR, since="2025-13-40", corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "index")

    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("question", [CO_CHAIR, SEMICONDUCTORS, "What was agreed on submarine cables?",
                                      "How do I descale an espresso machine?"])
def test_without_filters_nothing_changes_and_a_filter_allowing_everything_changes_nothing(index, question):
    unfiltered, evidence = search(question, 5, index)
    everything, everything_evidence = search(question, 5, index, Filters(since="1900"))

    assert qa.retrieve(question, index=index) == qa.retrieve(question, index=index, since=None, until=None,
                                                             publishers=None, documents=None) == unfiltered
    assert everything == unfiltered
    assert everything_evidence == pytest.approx(evidence, abs=1e-6)


# --- a narrow filter in a corpus where its passage is far down -------------------------------------------

NEEDLE_QUESTION = "Which Arctic fibre optic cable will link Finland and Japan?"
NEEDLE = "In passing, the note mentions a possible undersea data line between Finland and Japan one day."
NOTE = f"""---
title: Rural affairs note
publisher: Ministry of Examples
date: "2019-03-01"
---
# Rural affairs note

Rice farmers in the northern prefectures reported a good harvest, helped by a mild spring and enough rain.

{NEEDLE}

Tourism to mountain villages grew again, and several old inns reopened for hikers and visiting students.
"""
PLACES = ["Helsinki", "Oulu", "Kirkenes", "Tromsø", "Sapporo", "Tokyo", "Osaka", "Murmansk", "Nome", "Anadyr"]


def bulletin() -> str:
    """80 paragraphs, each a chunk of its own, each closer to NEEDLE_QUESTION than NEEDLE in every way."""
    items = [
        f"Bulletin item {i}: the Arctic fibre optic cable that will link Finland and Japan was reviewed in "
        f"{PLACES[i % 10]} in week {i}. Engineers said the Arctic fibre optic cable between Finland and Japan "
        f"will run {1000 + 37 * i} kilometres past {PLACES[(i * 3 + 1) % 10]}, and the optic cable link is on "
        f"schedule for stage {i} of the project, the operators of the cable added."
        for i in range(80)
    ]
    return ("---\ntitle: Arctic cable bulletin\npublisher: Cable Bulletin\ndate: \"2024-06-01\"\n---\n"
            "# Arctic cable bulletin\n\n" + "\n\n".join(items) + "\n")


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, embedder) -> Index:
    """An index where 80 bulletin passages outrank, on every signal, the one note passage that mentions the topic."""
    base = tmp_path_factory.mktemp("crowded")
    (base / "corpus").mkdir()
    (base / "corpus" / "note.md").write_text(NOTE, encoding="utf-8")
    (base / "corpus" / "bulletin.md").write_text(bulletin(), encoding="utf-8")
    build_index(base / "corpus", base / "index", embedder=embedder)
    return Index.load(base / "index", embedder=embedder)


def test_a_narrow_filter_finds_its_best_passage_beyond_the_unfiltered_candidates(crowded):
    needle = next(i for i, chunk in enumerate(crowded.chunks) if NEEDLE in chunk.text)
    vector = crowded.embedder.embed([NEEDLE_QUESTION])[0]
    keyword = crowded.keyword_scores(NEEDLE_QUESTION)
    # the precondition that makes this a test: no unfiltered candidate list reaches the needle
    assert needle not in crowded.dense_scores(vector, CANDIDATES)
    assert needle not in crowded.sentence_scores(vector, CANDIDATES)
    assert needle not in np.argsort(-keyword)[:CANDIDATES]
    assert "note.md" not in {p.doc_id for p in qa.retrieve(NEEDLE_QUESTION, CANDIDATES, index=crowded)}

    for filters in ({"documents": ["note.md"]}, {"until": "2020"}, {"publishers": ["ministry of examples"]}):
        passages = qa.retrieve(NEEDLE_QUESTION, 3, index=crowded, **filters)

        assert passages[0].doc_id == "note.md"
        assert NEEDLE in passages[0].text
        assert passages[0].quote.startswith("In passing")


# --- qa ask -----------------------------------------------------------------------------------------


def test_ask_with_since_and_publisher(workspace):
    result = CliRunner().invoke(
        main, ["ask", "--json", "--since", "2025", "--publisher", "european commission", "-k", "3", CO_CHAIR],
        env=workspace)

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["abstained"] is False
    assert {p["publisher"] for p in payload["passages"]} == {COMMISSION}
    assert all(p["date"] >= "2025-01-01" for p in payload["passages"])


def test_ask_with_repeated_documents_and_until(workspace):
    chosen = ["2022-05-12-eu-japan-summit-digital-partnership.md", "2024-05-01-second-digital-partnership-council.md"]
    result = CliRunner().invoke(
        main, ["ask", "--json", "--document", chosen[0], "--document", chosen[1], "--until", "2024-05", "-k", "8",
               SEMICONDUCTORS], env=workspace)

    assert result.exit_code == 0, result.output
    assert {p["doc_id"] for p in json.loads(result.stdout)["passages"]} == set(chosen)


def test_ask_says_when_no_document_matches(workspace):
    result = CliRunner().invoke(main, ["ask", "--publisher", "Nobody", CO_CHAIR], env=workspace)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == NO_DOCUMENT_MATCHES


def test_ask_with_a_bad_date_is_a_one_line_error(workspace):
    result = CliRunner().invoke(main, ["ask", "--until", "last year", CO_CHAIR], env=workspace)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Cannot read the date 'last year'")
