"""Japanese: sentence ends (。！？ and closing brackets), keyword terms from SudachiPy's morphological analysis
(dictionary forms; particles, auxiliaries, symbols and a few empty words dropped), names (proper nouns),
kanji numerals, and the Japanese cues of questions."""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from importlib import resources
from pathlib import Path

from qa.errors import ModelNotAvailable
from qa.text import english

LANGUAGE = "ja"
# The characters this analyser reads: kana, kanji (CJK ideographs), the iteration and prolonged-sound marks
SCRIPT = re.compile(r"[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                    r"々〆ヶ\uff66-\uff9f]+")
SENTENCE_END = re.compile(r"[。！？!?]+[」』）)〕】]*")
# Parts of speech that carry no topic: particles, auxiliary verbs, symbols, blanks; pronouns and prefixes
EMPTY_PARTS = frozenset(("助詞", "助動詞", "補助記号", "空白", "記号", "代名詞", "接頭辞", "感動詞", "接続詞"))
STOPWORDS = frozenset(
    "第 する ある いる なる れる られる こと もの よう ため これ それ あれ どれ ここ そこ どこ 及び 並びに 等 など "
    "おる できる 行う いう 思う 方 者 的 について における において による よる 又 また ござる です ます".split()
)
# What in_english() looks up: words with a meaning of their own, not numbers, counters (回, 日) or light verbs (する)
GLOSSED_PARTS = frozenset(("名詞", "動詞", "形容詞", "形状詞"))
UNGLOSSED = frozenset(("数詞", "助数詞可能", "非自立可能"))
GLOSSES = 3  # of a word's first sense: enough for its usual English words, few enough not to drown the others
KANJI_DIGITS = "〇一二三四五六七八九"
NUMERAL = re.compile(r"[一二三四五六七八九十]+")
# The numbers a question pins: figures next to Japanese text ("第5回", "2027年") and kanji ordinals ("第五回")
PINNED_NUMBER = re.compile(r"(?<=第)[一二三四五六七八九十]+(?=[回次])|\d+(?=[年月日回次度号位条])|(?<=第)\d+")
QUESTION_WORD = re.compile(r"誰|だれ|何|なに|なん|どこ|いつ|どの|どう|どれ|なぜ|いくら|どちら|どんな")
# いつ ("when"), not いつも/いつでも/いつまでも ("always", "any time", "forever") or いつか ("some day"), nor the いつ
# of a verb after its kanji (追いつく, 思いつく); 何年, 何月, 何日, 何時, not 何日間 ("how many days") or 何年か
ASKS_WHEN = re.compile(r"(?<![\u4e00-\u9fff])いつ(?!も|でも|までも|か(?!ら))|何\s*[年月日時](?!間|か)|日付|日時|日程|時期")
ASKS_MONEY = re.compile(r"いくら|金額|予算|費用|資金|投資額")
MONEY = re.compile(r"[円￥]|ユーロ|ドル|億|万円")
# What English writes in words of its own, read before a text is cut into runs (the figure of 第2回 or 5月 is a run
# apart, which in_english never sees): ordinals of counted events (第2回, 第三次) and months of the year (5月)
ORDINAL = re.compile(r"第\s*(\d+|[一二三四五六七八九十]+)\s*(?=[回次期])")
MONTH = re.compile(r"(?<![\d.])(1[0-2]|0?[1-9])\s*月(?!間)")
NAME = {"en": "Japanese", "ja": "日本語"}  # this language's name, in each language served
QUOTED_AS_WRITTEN = "出典は{languages}の文書のため、原文のまま引用しています。"  # sources in other languages than the question's
JOIN = "・"
# "では、第2回は？", "それはいつ？", "EU側は？": a continuation, a pronoun referring back, or a bare topic
CONTINUATION = re.compile(r"^\W*(?:では|じゃあ|それでは|それで|また|ところで|あと|さらに)|^\W*\S{1,12}(?:は|って|の方は)[？?]\W*$")
PRONOUN = re.compile(r"それ|その|これ|この|あれ|あの|彼|彼女|同じ|そこ")


def words(text: str) -> list[str]:
    """The keyword terms of a run of Japanese text: each word's dictionary (normalised) form, split in Sudachi's
    middle mode B (デジタル / パートナーシップ / 協議会), empty words dropped."""
    terms = []
    for morpheme in _analyse(text):
        part = morpheme.part_of_speech()[0]
        form = morpheme.normalized_form().lower()
        if part not in EMPTY_PARTS and form not in STOPWORDS:
            terms.append(form)
    return terms


def in_english(text: str) -> list[str]:
    """English words for the content words of a run of Japanese text (nouns, adjectives and verbs that stand on
    their own), from the first sense of each one's JMdict entry: 半導体 is "semiconductor solid-state", 議長
    "chair chairman chairperson". What a Japanese question or passage is in English words, for keywords and
    MiniLM across languages (qa.text.in_english). Words the dictionary does not hold give nothing."""
    found = []
    for morpheme in _analyse(text):
        part = morpheme.part_of_speech()
        if part[0] in GLOSSED_PARTS and part[1] not in UNGLOSSED and morpheme.normalized_form() not in STOPWORDS:
            found.extend(gloss(morpheme.normalized_form()) or gloss(morpheme.dictionary_form()))
    return found


def before_english(text: str) -> str:
    """text with its ordinals and months in English words: "第2回" is " second 回", "2024年5月1日" "2024年 May 1日"
    (the counter and 日 stay, for the analyser to read)."""
    text = ORDINAL.sub(lambda match: f" {english.ordinal(int(n))} " if (n := figure(match.group(1))).isdigit()
                       else match.group(), text)
    return MONTH.sub(lambda match: f" {english.MONTHS[int(match.group(1)) - 1]} ", text)


@functools.lru_cache(maxsize=1 << 14)
def gloss(word: str) -> tuple[str, ...]:
    """The English glosses of word's first sense in JMdict (written form first, then reading), parenthesised
    remarks and a verb's "to" dropped: 務める is ("work", "be employed", "serve")."""
    with _LOCK:
        entry = _dictionary().execute(
            "SELECT idseq FROM Kanji WHERE text = ? UNION ALL SELECT idseq FROM Kana WHERE text = ? LIMIT 1",
            (word, word)).fetchone()
        if entry is None:
            return ()
        rows = _dictionary().execute(
            "SELECT g.text FROM SenseGloss g WHERE g.lang = 'eng' AND g.sid = "
            "(SELECT MIN(ID) FROM Sense WHERE idseq = ?) LIMIT ?", (entry[0], GLOSSES)).fetchall()
    return tuple(cleaned for (text,) in rows if (cleaned := _plain(text)) and not cleaned.startswith("counter for"))


def _plain(gloss_text: str) -> str:
    return re.sub(r"^to ", "", re.sub(r"\([^)]*\)", " ", gloss_text)).strip()


@functools.cache
def _dictionary() -> sqlite3.Connection:
    """JMdict (the jamdict-data package's database), read only, shared between threads under _LOCK."""
    try:
        path = Path(str(resources.files("jamdict_data") / "jamdict.db"))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ModelNotAvailable("The Japanese-English dictionary ships in the package jamdict-data; "
                                "install it: pip install --force-reinstall 'jamdict-data>=1.5,<1.6'")
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def sentence_ends(line: str) -> list[int]:
    """Where sentences end in a line: after 。！？ and any closing brackets, where more text follows."""
    return [match.end() for match in SENTENCE_END.finditer(line) if line[match.end():].strip()]


def names(sentence: str) -> list[str]:
    """The proper nouns of a sentence in Japanese script (インド, 河野, 欧州委員会). The numbers it pins are
    checked against the closest passages instead (answer.unheld_numbers), where "26" is found in "26th"."""
    return [m.surface() for m in _analyse(sentence, whole=True)
            if m.part_of_speech()[1] == "固有名詞" and SCRIPT.fullmatch(m.surface())]


def figure(numeral: str) -> str:
    """A number as figures: "五" and "5" are "5", "十二" is "12"; figures stay as they are."""
    if not NUMERAL.fullmatch(numeral):
        return numeral
    if "十" not in numeral:
        return str(int("".join(str(KANJI_DIGITS.index(ch)) for ch in numeral)))
    tens, _, units = numeral.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return numeral  # no number is written so ("十十", "二三十"): left as it is
    return str((KANJI_DIGITS.index(tens) if tens else 1) * 10 + (KANJI_DIGITS.index(units) if units else 0))


def _analyse(text: str, *, whole: bool = False):
    """Sudachi's morphemes of text: mode B (middle units) for keywords, mode C (whole names) for names."""
    from sudachipy import SplitMode

    with _LOCK:  # a Sudachi tokenizer is not to be shared between threads mid-call
        return list(_tokenizer().tokenize(text, SplitMode.C if whole else SplitMode.B))


_LOCK = threading.Lock()


@functools.cache
def _tokenizer():
    from sudachipy import Dictionary

    return Dictionary(dict="core").create()
