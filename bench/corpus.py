"""Generated corpora for the benchmarks: `radar import` rows with topic structure.

Each document is a short paragraph (40-120 words) about one of 200 themes: a
theme has its own 12 content words (drawn from a fixed vocabulary), mixed with
common policy words, so topic fitting finds real clusters; a tenth of the
themes grow over time (their documents are dated late), the rest are spread
evenly over 2015-2024. Channels rotate news / policy / citizen (citizen posts
have authors). Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

SYLLABLES = ("ka", "lo", "mi", "ren", "sa", "tor", "vel", "un", "pra", "dis", "cor", "men", "tal",
             "bri", "gen", "ho", "ly", "nor", "qua", "ster", "wo", "xi", "ze", "fa")
COMMON = ("the council said residents will need a new plan for the city and its services this year "
          "because people expect better support from local government in every district while "
          "budgets remain tight and officials promise to report progress on the programme soon").split()
THEMES = 200


def _vocabulary(rng: random.Random, n: int) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def generated_rows(n: int, seed: int = 7) -> Iterator[dict]:
    """`n` import rows (url, title, text, published_at, source, channel, author)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, THEMES * 12)
    themes = [vocab[i * 12:(i + 1) * 12] for i in range(THEMES)]
    rising = set(rng.sample(range(THEMES), THEMES // 10))
    channels = ("news", "policy", "citizen")
    for i in range(n):
        t = rng.randrange(THEMES)
        words = []
        for _ in range(rng.randint(40, 120)):
            words.append(rng.choice(themes[t]) if rng.random() < 0.35 else rng.choice(COMMON))
        sentences = [" ".join(words[j:j + 15]).capitalize() + "." for j in range(0, len(words), 15)]
        year = 2015 + (min(9, 6 + int(rng.random() * 4)) if t in rising else rng.randrange(10))
        channel = channels[i % 3]
        yield {"url": f"https://bench.example/{channel}/{t}/{i}", "title": f"{themes[t][0]} {i}",
               "text": " ".join(sentences),
               "published_at": f"{year}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}T10:00:00Z",
               "source": f"{channel}-{i % 30}", "channel": channel,
               "author": f"person {rng.randrange(5000)}" if channel == "citizen" else None}
