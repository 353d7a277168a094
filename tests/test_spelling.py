"""Typos are corrected against the words of the corpus; real words, names no document mentions and other
scripts are left alone; the reply says what was searched."""

from __future__ import annotations

import pytest

import qa
from qa.spelling import Speller, correct, english_words

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"


@pytest.mark.parametrize("typed, meant", [
    ("semicondutor cooperation agreemnt", "semiconductor cooperation agreement"),
    ("who co-chared the thrid digtal partnrship councl", "who co-chaired the third digital partnership council"),
    ("Who leads the 6G MIRAI-HARMONEY project?", "Who leads the 6G MIRAI-HARMONY project?"),
    ("Semicondutor policy?", "Semiconductor policy?"),  # the typed case is kept
])
def test_a_typo_is_read_as_the_nearest_word_of_the_corpus(index, typed, meant):
    assert correct(typed, index) == meant


@pytest.mark.parametrize("question", [
    "How tall is Mount Everest?",  # "tall" is one edit from "talk", but an English word: not a typo
    "What did Macron say about chips?",  # a name inside a sentence is corrected only to a name of the corpus
    "What is the capital of Australia?",
    "第3回デジタルパートナーシップ協議会の共同議長は誰でしたか？",  # other scripts are not corrected
    "Who co-chaired the third Digital Partnership Council?",
])
def test_real_words_names_and_other_scripts_are_left_alone(index, question):
    assert correct(question, index) == question


def test_a_capitalised_word_is_corrected_by_two_edits_only_to_a_name():
    speller = Speller(["The plant reads micrometre sizes, micrometre by micrometre.", "Dr Virkkunen spoke.",
                       "The summit was held in Tokyo."])

    assert speller.correct("What did Micrnmtre say?") == "What did Micrnmtre say?"  # two edits, no name
    assert speller.correct("the micrnmtre sizes") == "the micrometre sizes"  # in lower case, a word
    assert speller.correct("What did Virkunnen say?") == "What did Virkkunen say?"  # two edits, a name
    assert speller.correct("Where was the Sumit held?") == "Where was the Summit held?"  # one edit
    assert speller.correct("macrn sizes") == "macrn sizes"  # two edits from a 5-letter word: too far to guess


def test_the_english_word_list_ships_with_symspellpy():
    words = english_words()

    assert len(words) > 80_000 and {"tall", "capital", "agreement"} <= words


def test_the_answer_says_what_it_searched_and_finds_what_the_clean_question_finds(index):
    clean = qa.answer(CO_CHAIR, index=index)
    typed = qa.answer("who co-chared the thrid digtal partnrship councl", index=index)

    assert typed.corrected == "who co-chaired the third digital partnership council"
    assert not typed.abstained and typed.passages[0].text == clean.passages[0].text
    assert "Henna Virkkunen" in typed.text
    assert clean.corrected == ""


def test_a_typo_in_a_name_the_documents_never_mention_is_still_refused(index):
    result = qa.answer("When will the EU and Indiia hold their next Digital Partnership Council?", index=index)

    assert result.abstained and "Indiia" in result.notice
