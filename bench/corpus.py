"""Generate a deterministic corpus of plausible English policy documents, of any size, for the benchmarks.

Sentences of 15 to 30 words are assembled from word lists by a seeded generator, two per paragraph,
so one paragraph makes about one passage (chunks close at about 280 characters). The same seed always
gives the same files, so timings of different runs measure the same work.
"""

from __future__ import annotations

import random
from pathlib import Path

SENTENCES_PER_PARAGRAPH = 2
PARAGRAPHS_PER_DOCUMENT = 10

SUBJECTS = [
    "The European Commission", "The Japanese government", "The joint working group", "The Digital Partnership Council",
    "The research consortium", "The ministry", "The steering committee", "Each delegation", "The expert panel",
    "The national agency", "The regional network", "The industry alliance", "The data protection authority",
    "The university partnership", "The standards body", "The project team",
]
VERBS = [
    "agreed to expand", "announced new funding for", "reviewed progress on", "proposed a roadmap for",
    "committed to strengthening", "launched a pilot on", "published guidelines for", "called for closer work on",
    "welcomed the results of", "set out priorities for", "reaffirmed its support for", "began consultations on",
]
TOPICS = [
    "semiconductor supply chains", "secure submarine cables", "trusted data spaces", "sixth generation networks",
    "quantum computing research", "high performance computing", "artificial intelligence governance",
    "online platform regulation", "digital identity wallets", "cybersecurity certification", "green data centres",
    "skills for digital workers", "cross-border data flows", "open radio access networks", "space-based connectivity",
    "digital public services", "privacy enhancing technologies", "blockchain standards", "smart manufacturing",
    "research infrastructure", "satellite navigation", "electronic invoicing", "cloud sovereignty", "robotics testing",
]
QUALIFIERS = [
    "in close cooperation with small and medium-sized enterprises", "over the next three years",
    "with a particular focus on rural regions", "through a series of joint calls for proposals",
    "as part of a wider economic security agenda", "while respecting fundamental rights and privacy",
    "in line with international standards", "with support from national research councils",
    "to reduce dependence on a few suppliers", "before the next ministerial meeting in Tokyo",
    "alongside partners in the Indo-Pacific region", "with a budget of several hundred million euros",
    "following a public consultation with stakeholders", "so that results can be shared openly",
]
CONNECTORS = ["and noted that", "while stressing that", "because", "after officials confirmed that", "so that"]
CLAUSES = [
    "further meetings will review concrete milestones", "industry partners expect measurable results soon",
    "the first pilot projects are already under way", "both sides want common rules for trustworthy services",
    "researchers will exchange staff and share test facilities", "public funding must attract private investment",
    "shared standards make products easier to sell in both markets", "the timetable depends on national approvals",
]
PUBLISHERS = ["European Commission", "Digital Agency, Japan", "Council of the EU", "Ministry of Foreign Affairs of Japan"]


def sentence(rng: random.Random) -> str:
    """One sentence of 15 to 30 words."""
    while True:
        words = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(TOPICS)} {rng.choice(QUALIFIERS)}"
        if rng.random() < 0.7:
            words += f", {rng.choice(CONNECTORS)} {rng.choice(CLAUSES)}"
        if 15 <= len(words.split()) <= 30:
            return words + "."


def document(rng: random.Random, number: int, paragraphs: int = PARAGRAPHS_PER_DOCUMENT) -> str:
    """A Markdown document with a metadata header and paragraphs of two sentences."""
    topic = rng.choice(TOPICS)
    date = f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    header = (
        f'---\ntitle: "Report {number}: cooperation on {topic}"\npublisher: "{rng.choice(PUBLISHERS)}"\n'
        f'date: "{date}"\nurl: "https://example.org/report/{number}"\nlanguage: en\n---\n\n'
    )
    body = "\n\n".join(" ".join(sentence(rng) for _ in range(SENTENCES_PER_PARAGRAPH)) for _ in range(paragraphs))
    return header + body + "\n"


def write_corpus(folder: Path, documents: int, *, paragraphs: int = PARAGRAPHS_PER_DOCUMENT, seed: int = 0) -> Path:
    """Write documents generated Markdown files into folder (about documents * paragraphs passages)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(documents):
        (folder / f"report-{number:06d}.md").write_text(document(rng, number, paragraphs), encoding="utf-8")
    return folder


def add_document(folder: Path, *, paragraphs: int = PARAGRAPHS_PER_DOCUMENT, seed: int = 1) -> Path:
    """Write one more generated document into folder (a different seed from the corpus's); its path."""
    path = folder / "report-added.md"
    path.write_text(document(random.Random(seed), 999_999, paragraphs), encoding="utf-8")
    return path


def questions(n: int, *, seed: int = 2) -> list[str]:
    """Questions in the corpus's vocabulary, e.g. "Who agreed to expand trusted data spaces in rural regions?"."""
    rng = random.Random(seed)
    return [
        f"Who {rng.choice(VERBS)} {rng.choice(TOPICS)} {rng.choice(QUALIFIERS).split(' ', 1)[1]}?" for _ in range(n)
    ]
