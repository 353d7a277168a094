"""Follow-up questions are read with the question they lean on; standalone ones alone; small talk is answered."""

from __future__ import annotations

import pytest

import qa
from qa.conversation import read, small_talk, stands_alone
from qa.evaluate import contains

CO_CHAIR = "Who co-chaired the third Digital Partnership Council?"
MIRAI = "Who leads the 6G MIRAI-HARMONY project?"


@pytest.mark.parametrize("question", ["And the second one?", "Where will it take place?", "What is its budget?",
                                      "What about AI?", "Semiconductors?", "And when did they sign it?"])
def test_a_question_that_leans_on_the_one_before_does_not_stand_alone(question):
    assert not stands_alone(question)


@pytest.mark.parametrize("question", [CO_CHAIR, MIRAI, "And who co-chaired the second Digital Partnership Council?",
                                      "When did the EU and Japan sign their Digital Partnership agreement?",
                                      "How tall is Mount Everest?"])
def test_a_whole_question_stands_alone_even_with_a_pronoun_or_an_and(question):
    assert stands_alone(question)


def test_a_follow_up_is_read_with_the_last_standalone_question_and_the_follow_ups_since():
    history = [MIRAI, "thanks!", "What is its budget?"]

    reading = read("And when does it end?", history)

    assert reading.follows == MIRAI  # small talk in between is passed over
    assert reading.context == f"{MIRAI} What is its budget?"
    assert read(CO_CHAIR, history).context == ""  # a change of topic is not dragged back
    assert read("And the second one?", []).context == ""


def test_and_the_second_one_after_the_third_council_finds_the_second_councils_co_chairs(index):
    alone = qa.answer("And the second one?", index=index)
    followed = qa.answer("And the second one?", history=[CO_CHAIR], index=index)

    assert followed.follows == CO_CHAIR and alone.follows == ""
    assert "co-chaired by Mr. Kono" in followed.passages[0].text
    assert "co-chaired" not in alone.passages[0].text  # alone, it found a photo caption


def test_a_standalone_question_after_another_topic_finds_what_it_finds_alone(index):
    alone = qa.retrieve(MIRAI, k=3, index=index)
    after = qa.retrieve(MIRAI, k=3, history=[CO_CHAIR], index=index)

    assert [p.text for p in after] == [p.text for p in alone]


def test_a_follow_up_about_a_name_the_documents_never_mention_is_refused(index):
    result = qa.answer("What about India?", history=["What did the EU and Japan agree on semiconductors?"],
                       index=index)

    assert result.abstained and "India" in result.notice


def test_an_off_topic_question_after_an_on_topic_one_is_still_refused(index):
    assert qa.answer("How tall is Mount Everest?", history=[CO_CHAIR], index=index).abstained


@pytest.mark.parametrize("message, kind", [("hi", "greeting"), ("Hello there!", "greeting"), ("thanks!", "thanks"),
                                           ("Thank you very much", "thanks"), ("help", "help"),
                                           ("What can you do?", "help"), ("bye", "goodbye"),
                                           ("ありがとうございます", "thanks"), ("?", "help"),
                                           ("Thanks, that helps!", "thanks"), ("hi, what can you do?", "help"),
                                           ("helo", "greeting"), ("thnaks", "thanks"), ("what cna you do", "help")])
def test_small_talk_is_recognised(message, kind):
    assert small_talk(message) == kind


@pytest.mark.parametrize("message", [CO_CHAIR, "Hi, who leads the MIRAI-HARMONY project?", "thanks for the data act?",
                                     "help with semiconductors", "what can they do", "who are they"])
def test_a_question_is_not_small_talk(message):
    assert small_talk(message) == ""


@pytest.mark.parametrize("message", ["hi", "thanks!", "help", "What can you do?"])
def test_small_talk_gets_a_friendly_reply_not_a_refusal(index, message):
    result = qa.answer(message, index=index)

    assert result.small_talk and not result.abstained and result.passages == ()
    assert "Nothing in the documents" not in result.text


def test_help_says_what_the_assistant_covers_with_example_questions(index):
    result = qa.answer("help", index=index)

    assert "5 documents" in result.text and "For example" in result.text
    example = result.text.splitlines()[-1].lstrip("• ")
    answered = qa.answer(example, index=index)  # the examples it gives are answered
    assert not answered.abstained and answered.passages


def test_history_may_hold_anything_people_type(index):
    result = qa.answer("And the second one?", history=["", "   ", "\x00", "thanks", CO_CHAIR], index=index)

    assert result.follows == CO_CHAIR
    assert any(contains(p.text, ["co-chaired by Mr. Kono"]) for p in result.passages)
