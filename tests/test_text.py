"""Text analysis in both languages: sentences, keyword terms, names, numbers, question cues, language."""

from __future__ import annotations

import bm25s
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import text
from qa.errors import ModelNotAvailable
from qa.text import english, japanese


def test_english_terms_are_what_bm25s_made_of_them_before():
    sentence = "Who co-chaired the third Digital Partnership Council in Tokyo on 12 May 2025?"
    plain = bm25s.tokenize([sentence], stopwords="en_plus", stemmer=english._stemmer(), show_progress=False,
                           return_ids=False)[0]
    assert text.words(sentence) == plain


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["U.S. and E.U. ministers' co-chaired talks", "ＥＵ 2,000 running runners", "the of and", ""]))
def test_english_words_are_bm25s_tokenize_with_and_without_stems_and_stop_words(sample):
    for stem, stopwords in ((True, english.STOPWORDS), (False, english.STOPWORDS), (True, "en"), (False, None)):
        expected = bm25s.tokenize([sample], stopwords=stopwords, stemmer=english._stemmer() if stem else None,
                                  show_progress=False, return_ids=False)[0]
        assert english.words(sample, stem=stem, stopwords=stopwords) == expected


def test_japanese_terms_are_words_in_dictionary_form_without_particles():
    terms = text.words("第3回日EUデジタルパートナーシップ協議会の共同議長は誰でしたか？")
    assert {"デジタル", "パートナーシップ", "協議会", "共同", "議長", "eu"} <= set(terms)
    assert not {"の", "は", "でし", "か", "？", "誰"} & set(terms)


def test_a_latin_word_inside_japanese_is_the_same_term_as_in_english():
    assert text.terms("6G MIRAI-HARMONYプロジェクト") & text.terms("the 6G MIRAI-HARMONY project") >= {"mirai", "harmoni"}
    assert text.terms("ＥＵ") == text.terms("EU")  # full-width letters, as Japanese keyboards type them


def test_a_japanese_question_is_read_in_english_words_from_the_dictionary():
    words = text.in_english("半導体サプライチェーンの強靱性はどのように確保されますか？").split()
    assert {"semiconductor", "supply", "chain"} <= set(words)
    # particles, auxiliaries, numbers, counters and light verbs (する) are not looked up; Latin words stay
    read = text.in_english("第3回の協議会でEUは何をしましたか？")
    assert text.terms(read) == text.terms("third conference council convention EU")
    assert text.in_english("Who leads MIRAI-HARMONY?") == "Who leads MIRAI-HARMONY?"
    assert text.in_english("ぴよぴよ") == ""  # a word the dictionary does not hold gives nothing


@pytest.mark.parametrize("japanese_text, english_words", [
    ("第2回日EUデジタルパートナーシップ協議会", {"second", "digital", "partnership", "council"}),
    ("第二次計画", {"second", "plan"}),
    ("第 21 回", {"21st"}),
    ("令和6年4月30日、ブリュッセルにおいて", {"april", "30", "brussels"}),
    ("2025年12月", {"december", "2025"}),
])
def test_ordinals_and_months_inside_japanese_are_read_as_english_writes_them(japanese_text, english_words):
    # the figure of 第2回 or 4月 is a run of its own, outside the Japanese analyser: read before the runs are cut
    assert english_words <= set(text.in_english(japanese_text).lower().split())


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["回", "次", "期"]))
def test_every_counted_ordinal_has_its_english_ordinal(n, counter):
    figures = text.in_english(f"第{n}{counter}").split()
    assert figures[0] == english.ordinal(n)
    assert english.ordinal(n) in english.ORDINALS or english.ordinal(n)[-2:] in ("st", "nd", "rd", "th")


@given(st.text(alphabet="一二三四五六七八九十0123456789", min_size=1, max_size=6), st.sampled_from(["回", "次"]))
def test_any_counted_numeral_is_read_without_error(numeral, counter):
    # "第十十回" is no number: it stays as written, and a question pinning it is still read (it crashed before)
    question = f"第{numeral}{counter}の協議会では何が合意されましたか？"
    assert all(number.isdigit() or number == numeral for number in text.pinned_numbers(question))
    assert isinstance(text.in_english(question), str)


def test_english_ordinals():
    assert [english.ordinal(n) for n in (1, 2, 12, 13, 21, 22, 23, 111, 112)] == [
        "first", "second", "twelfth", "13th", "21st", "22nd", "23rd", "111th", "112th"]


def test_without_the_dictionary_the_error_says_which_package_to_install(monkeypatch, tmp_path):
    japanese._dictionary.cache_clear()
    monkeypatch.setattr(japanese.resources, "files", lambda package: tmp_path)  # a package folder without its file
    try:
        with pytest.raises(ModelNotAvailable, match="pip install --force-reinstall 'jamdict-data"):
            japanese._dictionary()
    finally:
        monkeypatch.undo()
        japanese._dictionary.cache_clear()
    assert japanese._dictionary().execute("SELECT 1").fetchone() == (1,)


@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Z", "S")), max_size=60))
@settings(max_examples=60, deadline=None)
def test_any_text_is_read_in_english_words_without_error(sample):
    assert isinstance(text.in_english(sample), str)


@pytest.mark.parametrize("passage, sentences", [
    ("日本とEUは協議会を開催した。共同声明を発表した！", ["日本とEUは協議会を開催した。", "共同声明を発表した！"]),
    ("「協力を進める。」と述べた。次に移る。", ["「協力を進める。」", "と述べた。", "次に移る。"]),
    ("Mr. Kono met Mr. Breton. They agreed.", ["Mr. Kono met Mr. Breton.", "They agreed."]),
    ("EU side: 協議会を開催した。 Then it ended.", ["EU side: 協議会を開催した。", "Then it ended."]),
], ids=["japanese", "brackets", "english", "mixed"])
def test_sentences_end_where_either_language_ends_them(passage, sentences):
    assert [passage[s:e] for s, e in text.split_sentences(passage)] == sentences


def test_japanese_names_and_pinned_numbers():
    assert text.names("インドとのデジタルパートナーシップはいつ始まりましたか？") == ["インド"]
    assert text.script_language("インド") == "ja" and text.script_language("India") == "en"
    assert text.pinned_numbers("第五回協議会は2027年に開かれますか？") == ["5", "2027"]
    assert text.pinned_numbers("第12回") == ["12"] and japanese.figure("十二") == "12"


@pytest.mark.parametrize("question, when, money, leans", [
    ("第3回協議会はいつ開催されましたか？", True, False, False),
    ("6G共同プロジェクトは年間いくらの資金を受けられますか？", False, True, False),
    ("では、第2回は？", False, False, True),
    ("When was the Digital Agency launched?", True, False, False),
    ("And the second one?", False, False, True),
])
def test_question_cues_in_either_language(question, when, money, leans):
    assert (text.asks_when(question), text.asks_money(question), text.leans_back(question)) == (when, money, leans)


@pytest.mark.parametrize("sample, language", [
    ("Who leads the 6G MIRAI-HARMONY project?", "en"),
    ("第3回デジタルパートナーシップ協議会の共同議長は誰でしたか？", "ja"),
    ("MIRAI-HARMONYを率いるのは誰？", "ja"),
    ("Semiconductors?", "en"),
    ("12345", "en"),
])
def test_language_of_a_question(sample, language):
    assert text.detect(sample) == language


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("あいうアイウ漢字語。！？「」 \nEUab.?12－ＡＢ、"), max_size=80))
def test_any_text_is_analysed_without_error_into_spans_inside_it(sample):
    spans = text.split_sentences(sample)
    assert all(0 <= s < e <= len(sample) for s, e in spans)
    assert spans == sorted(spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert all(word and word == word.lower() for word in text.words(sample))
    text.names(sample), text.pinned_numbers(sample), text.detect(sample)  # noqa: B018 - they must not raise


def test_the_note_on_sources_in_another_language_is_in_the_language_asked():
    assert text.quoted_as_written("ja", ["en"]) == "出典は英語の文書のため、原文のまま引用しています。"
    assert text.quoted_as_written("en", ["ja"]) == "Some sources are in Japanese; they are quoted as written, not translated."
