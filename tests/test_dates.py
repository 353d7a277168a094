"""Reading dates written in text, English and Japanese: each form, the eras' edges, impossible days, and any text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qa import text
from qa.dates import MENTIONS_DATE, Mention, find_date, find_dates, find_month

# Written out here rather than taken from qa.dates, so the round trip checks the module against the calendar
ERAS = [("令和", dt.date(2019, 5, 1)), ("平成", dt.date(1989, 1, 8)), ("昭和", dt.date(1926, 12, 25))]
FULL_WIDTH = str.maketrans("0123456789/.", "０１２３４５６７８９／．")
KANJI = "〇一二三四五六七八九"


def era_form(day: dt.date, first_year: str = "元") -> str:
    name, start = next((name, start) for name, start in ERAS if day >= start)
    year = day.year - start.year + 1
    return f"{name}{first_year if year == 1 else year}年{day.month}月{day.day}日"


def kanji(number: int) -> str:
    """12 -> 十二, 31 -> 三十一, 5 -> 五: how months, days and era years are written in kanji."""
    tens, ones = divmod(number, 10)
    return (KANJI[tens] if tens > 1 else "") + ("十" if tens else "") + (KANJI[ones] if ones else "")


@pytest.mark.parametrize("text, day", [
    # Japanese, the Western year (西暦)
    ("2025年5月15日", "2025-05-15"),
    ("2025 年 5 月 15 日", "2025-05-15"),
    ("2025年05月01日", "2025-05-01"),
    ("２０２５年５月１５日", "2025-05-15"),  # full-width digits, as Japanese keyboards type them
    ("二〇二五年十二月三十一日", "2025-12-31"),
    # Japanese eras
    ("令和5年7月3日", "2023-07-03"),
    ("令和６年５月１日", "2024-05-01"),
    ("令和六年五月一日", "2024-05-01"),
    ("令和 6 年 5 月 1 日", "2024-05-01"),
    ("㋿6年5月1日", "2024-05-01"),  # the era's one-character sign, read as 令和 (NFKC)
    ("㍻31年4月30日", "2019-04-30"),
    ("令和6年（2024年）5月1日", "2024-05-01"),  # the Western year beside the era's, in brackets
    ("令和6(2024)年5月1日", "2024-05-01"),
    ("2024年（令和6年）5月1日", "2024-05-01"),
    # numbers only, either language
    ("2025/5/15", "2025-05-15"),
    ("2025.5.15", "2025-05-15"),
    ("2025／５／１５", "2025-05-15"),
    ("2024-5-1", "2024-05-01"),
    # English, as documents.dateline has read it
    ("23 January 2019", "2019-01-23"),
    ("15 October, 2025", "2025-10-15"),
    ("May 1, 2024", "2024-05-01"),
    ("1st May 2024", "2024-05-01"),
    ("Sept. 12, 2024", "2024-09-12"),
    ("2024-05-01", "2024-05-01"),
    ("1 ſep 2020", "2020-09-01"),  # a long s, which NFKC reads as s
])
def test_each_form_is_read_as_its_day(text, day):
    assert find_date(text) == day
    assert find_date(f"東京にて {text}、会合を開催") == day  # inside a line, in either language


@pytest.mark.parametrize("text, day", [
    ("令和元年5月1日", "2019-05-01"),  # 令和's first day: 元年 is "the first year"
    ("令和1年5月1日", "2019-05-01"),
    ("令和元年4月30日", ""),  # still 平成
    ("平成31年4月30日", "2019-04-30"),  # 平成's last day
    ("平成31年5月1日", ""),  # already 令和
    ("平成32年1月1日", ""),  # a year the era never reached
    ("平成元年1月8日", "1989-01-08"),  # 平成's first day
    ("平成元年1月7日", ""),  # still 昭和
    ("昭和64年1月7日", "1989-01-07"),  # 昭和's last day
    ("昭和元年12月25日", "1926-12-25"),
    ("昭和元年12月24日", ""),  # 大正, which is not read
])
def test_an_era_holds_from_its_first_day_to_its_last(text, day):
    assert find_date(text) == day


@pytest.mark.parametrize("text", [
    "2025年2月30日", "2025年13月1日", "2025年0月1日", "令和5年2月29日", "2025/2/29", "31 February 2019",
    "2025年5月32日", "十十年五月一日",
])
def test_a_day_no_calendar_has_is_no_date(text):
    assert find_date(text) == ""


def test_a_leap_day_is_a_date():
    assert (find_date("令和6年2月29日"), find_date("2024/2/29")) == ("2024-02-29", "2024-02-29")


@pytest.mark.parametrize("text", ["5月15日", "5月", "15日", "May 15", "令和6年", "2025年", "2025", "12.5.15",
                                  "v1.2025.5.15", "2025.5.15.3", "5/15/2025", ""])
def test_a_date_without_its_year_or_a_run_of_numbers_is_no_date(text):
    # The year is not guessed for 5月15日: a document's own year is not known here, and today's would be wrong for
    # any document older than a year. A month, day and year in the American or European order (5/15/2025,
    # 15/5/2025) are left alone: which number is the month is not written.
    assert find_date(text) == ""


def test_of_several_dates_the_first_real_one_is_given():
    text = "2025年5月12日に東京で、2024年5月1日の会合に続き開催された。"
    assert find_date(text) == "2025-05-12"
    assert [m.iso for m in find_dates(text)] == ["2025-05-12", "2024-05-01"]
    assert find_date("2025年2月30日と令和7年3月1日") == "2025-03-01"  # the impossible one is passed over
    assert find_date("Signed on 23 January 2019 in Tokyo (平成31年1月23日)") == "2019-01-23"


def test_a_mention_says_where_the_date_is_written_in_the_text_as_given():
    text = "発表　㋿６年５月１日　外務省"

    (mention,) = find_dates(text)

    assert mention == Mention("2024-05-01", 3, 10)
    assert text[mention.start : mention.end] == "㋿６年５月１日"


@pytest.mark.parametrize("text, month", [
    ("2025年5月", "2025-05"),
    ("令和7年5月の閣僚会合", "2025-05"),
    ("令和元年5月", "2019-05"),
    ("令和元年4月", ""),  # still 平成
    ("平成31年4月", "2019-04"),
    ("May 2025", "2025-05"),
    ("2025年5月15日", "2025-05"),  # a day gives its month
    ("5月", ""),
])
def test_a_month_without_its_day_is_read_only_when_asked_for(text, month):
    assert find_month(text) == month
    assert find_date(text) == ("2025-05-15" if text == "2025年5月15日" else "")  # a month is not a day


@pytest.mark.parametrize("text", [
    # the English forms qa.retrieve's DATE_IN_TEXT has matched
    "in 2025 the council", "on May 12", "12 May", "1st July", "announced today",
    # Japanese
    "2025年に", "２０２５年", "令和6年", "元年", "5月に", "五月", "5月15日", "本日、発表した", "2025/5/15", "平成",
])
def test_mentions_date_finds_a_date_in_either_language(text):
    assert MENTIONS_DATE.search(text)


@pytest.mark.parametrize("text", ["the council met", "日本とEUの協力", "3年間の計画", "3か月ごと", "may we", "page 12"])
def test_mentions_date_leaves_text_without_a_date(text):
    assert not MENTIONS_DATE.search(text)


@pytest.mark.parametrize("question", [
    "When was the council held?", "and when did it meet", "What year was DFFT proposed?", "which date?",
    "閣僚会合はいつ開催されましたか", "いつから始まりましたか", "いつ頃ですか", "何年に合意しましたか", "何月ですか",
    "何日に開催", "会合の日付は", "開催時期を教えて", "何時に始まる",
])
def test_asks_when_finds_a_question_about_a_date(question):
    assert text.asks_when(question)


@pytest.mark.parametrize("question", [
    "Who co-chaired the council?", "What is DFFT?", "誰が議長を務めましたか", "いつも協力している", "いつでも参加できる",
    "いつか実現したい", "日本に追いつくために", "何日間続きましたか", "何年かかりますか", "ドイツはどうですか",
])
def test_asks_when_leaves_other_questions(question):
    assert not text.asks_when(question)


# --- any text ----------------------------------------------------------------------------------------------------

DATE_PIECES = ["年", "月", "日", "元", "令和", "平成", "昭和", "㋿", "十", "〇", "一", "三", "/", ".", "-", " ", "　", "(",
               ")", "（", "）", "０", "２", "９", "January", "May", "sept.", "ſep", "st", ",", "\n", "🙂", "\u0301"]
texts = st.one_of(
    st.text(),
    st.lists(st.sampled_from(DATE_PIECES) | st.integers(0, 2100).map(str), max_size=30).map("".join),
)


@settings(max_examples=1000, deadline=None, database=None)
@given(text=texts)
@example(text="平成32年1月1日")
@example(text="令和0年5月1日")
@example(text="〇年〇月〇日")
@example(text="9999年12月31日")
@example(text="令和9999年1月1日")
def test_any_text_gives_a_real_date_or_none(text):
    day, month, found = find_date(text), find_month(text), find_dates(text, months=True)

    assert day == "" or dt.date.fromisoformat(day).isoformat() == day
    assert month == "" or dt.date.fromisoformat(month + "-01").isoformat()[:7] == month
    assert all(0 <= m.start < m.end <= len(text) for m in found)
    assert [m.start for m in found] == sorted(m.start for m in found)


days = st.dates(min_value=dt.date(1926, 12, 25), max_value=dt.date(2117, 12, 31))  # up to 令和99年


@settings(max_examples=1000, deadline=None, database=None)
@given(day=days, first_year=st.sampled_from(["元", "1"]))
@example(day=dt.date(2019, 5, 1), first_year="元")
@example(day=dt.date(2019, 4, 30), first_year="元")
@example(day=dt.date(1989, 1, 8), first_year="元")
@example(day=dt.date(1989, 1, 7), first_year="元")
@example(day=dt.date(2024, 2, 29), first_year="元")
def test_a_day_written_either_way_reads_back_as_itself(day, first_year):
    iso = day.isoformat()
    western, era = f"{day.year}年{day.month}月{day.day}日", era_form(day, first_year)

    assert find_date(western) == iso
    assert find_date(era) == iso
    assert find_date(western.translate(FULL_WIDTH)) == iso
    assert find_date(era.translate(FULL_WIDTH)) == iso
    assert find_date(f"{day.year}/{day.month}/{day.day}") == iso
    assert find_date(f"{day.day} {day.strftime('%B')} {day.year}") == iso
    name, start = next((name, start) for name, start in ERAS if day >= start)
    assert find_date(f"{name}{kanji(day.year - start.year + 1)}年{kanji(day.month)}月{kanji(day.day)}日") == iso
