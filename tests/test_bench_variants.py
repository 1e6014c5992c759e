"""bench/signal_quality.py's corpus variants: the null corpus moves dates only, the half keeps half."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("signal_quality", ROOT / "bench" / "signal_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    rows = [{"url": f"https://example.org/{year}/s#p{i}", "text": f"paragraph {year} {i}",
             "published_at": f"{year}-09-25T00:00:00Z", "source": f"s{i % 3}"}
            for year in (2001, 2002, 2003) for i in range(10 * (year - 2000))]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_null_variant_shuffles_dates_and_keeps_texts_and_period_sizes(tmp_path):
    bench, corpus = _bench(), _corpus(tmp_path)
    before = _read(corpus / "rows.jsonl")
    after = _read(bench.corpus_variant(corpus, "null", 1, tmp_path / "out"))
    assert [r["text"] for r in after] == [r["text"] for r in before]
    assert Counter(r["published_at"] for r in after) == Counter(r["published_at"] for r in before)
    moved = sum(a["published_at"] != b["published_at"] for a, b in zip(after, before, strict=True))
    assert moved > len(before) / 3
    again = _read(bench.corpus_variant(corpus, "null", 1, tmp_path / "again"))
    assert again == after  # seeded


def test_half_variant_keeps_a_random_half_and_as_is_imports_the_corpus(tmp_path):
    bench, corpus = _bench(), _corpus(tmp_path)
    before = _read(corpus / "rows.jsonl")
    half = _read(bench.corpus_variant(corpus, "half", 2, tmp_path / "out"))
    assert len(half) == len(before) // 2
    assert len({r["url"] for r in half}) == len(half)
    assert all(r in before for r in half)
    assert bench.corpus_variant(corpus, "as-is", 1, tmp_path / "out") is None
