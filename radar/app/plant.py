"""`radar backtest --plant`: measure recall on synthetic trends in a real corpus.

No label set covers every weak signal, so (as in ScienceNOW-style evaluations)
we plant trends whose onset we know: documents voicing given phrases, from
several sources and authors, following a growth curve from the onset period.
They are injected into a *copy* of the warehouse (the real one is never
touched), through the ordinary import path (pseudonymised authors), topics are
assigned (by the NLP stage when available, else deterministically: one new
topic per planted trend), and a backtest reports recall, precision@k, detection
delay and false alarms among the other topics: with the NLP stage's topics the copy
is replayed period by period, topic discovery included (radar/app/replay.py), as a
live radar would have seen it; deterministic topics are scored as stored
(radar.scoring.backtest).

Plants CSV columns: `phrases` (`|`-separated), `onset` (date), `counts`
(`|`-separated passages per period from the onset, e.g. `3|6|12|24`), and
optionally `name`, `channel` (default citizen), `sources` (default 4),
`authors` (default 30).
"""

from __future__ import annotations

import csv
import json
import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from dateutil import parser as dateparser
from dateutil.relativedelta import relativedelta

from crawlers.importer import build_document, import_file
from nlp.pipeline import analyze
from radar.app.copies import copy_warehouse
from radar.app.replay import backtest_replay
from radar.core import warehouse
from radar.core.config import CHANNELS, Config
from radar.core.periods import period_start
from radar.core.privacy import load_salt
from radar.scoring.backtest import BacktestReport, Event, EventsFileError, backtest

log = logging.getLogger(__name__)

OPENERS = [
    "I really think we need to talk about", "Honestly, the big issue for us now is",
    "More and more neighbours bring up", "At the last meeting everyone mentioned",
    "Please put on the agenda:", "Our street keeps coming back to", "Can we finally address",
    "My family and friends all care about", "The thing I hear most lately is",
    "It is time the city looked at",
]
CLOSERS = [
    "", "It keeps coming up.", "People are asking about it every week.",
    "Nobody seems to have an answer yet.", "This matters to a lot of us.",
    "I hope someone listens.", "It affects young and old alike.",
]


@dataclass
class Plant:
    """One synthetic trend."""

    name: str
    phrases: list[str]
    onset: date
    counts: list[int]
    channel: str = "citizen"
    sources: int = 4
    authors: int = 30


def read_plants(path: Path) -> tuple[list[Plant], list[str]]:
    """Plants from a CSV; bad rows are returned as 'FILE:LINE: reason' and skipped."""
    if not path.exists():
        raise EventsFileError(f"{path}: file not found")
    plants, bad = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"phrases", "onset", "counts"} - set(reader.fieldnames or [])
        if missing:
            raise EventsFileError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for lineno, row in enumerate(reader, start=2):
            try:
                plants.append(_plant(row))
            except (ValueError, OverflowError) as exc:
                bad.append(f"{path}:{lineno}: {exc}")
    return plants, bad


def _plant(row: dict) -> Plant:
    phrases = [p.strip() for p in (row.get("phrases") or "").split("|") if p.strip()]
    if not phrases:
        raise ValueError("no phrases")
    try:
        onset = dateparser.parse(row.get("onset") or "").date()
    except (ValueError, OverflowError):
        raise ValueError(f"onset {row.get('onset')!r} is not a date") from None
    try:
        counts = [int(c) for c in (row.get("counts") or "").split("|") if c.strip()]
    except ValueError:
        raise ValueError(f"counts {row.get('counts')!r} are not whole numbers") from None
    if not counts or min(counts) < 0:
        raise ValueError("counts must be whole numbers >= 0, e.g. 3|6|12")
    channel = (row.get("channel") or "citizen").strip()
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return Plant(
        name=(row.get("name") or "").strip() or phrases[0], phrases=phrases, onset=onset,
        counts=counts, channel=channel, sources=int(row.get("sources") or 4),
        authors=int(row.get("authors") or 30),
    )


def add_periods(d: date, n: int, period: str) -> date:
    """The period start `n` periods after `d`."""
    if period == "day":
        return d + timedelta(days=n)
    if period == "week":
        return d + timedelta(weeks=n)
    if period == "month":
        return d + relativedelta(months=n)
    if period == "quarter":
        return d + relativedelta(months=3 * n)
    return d + relativedelta(years=n)


def generate(plants: list[Plant], period: str, seed: int = 0) -> list[dict]:
    """Import rows (text, published_at, source, channel, author) for every planted trend."""
    rng = random.Random(seed)
    rows = []
    for plant in plants:
        start = period_start(plant.onset, period)
        for i, n in enumerate(plant.counts):
            p_start = add_periods(start, i, period)
            span = max((add_periods(p_start, 1, period) - p_start).days, 1)
            for j in range(n):
                phrase = plant.phrases[(i + j) % len(plant.phrases)]
                text = f"{rng.choice(OPENERS)} {phrase}. {rng.choice(CLOSERS)}".strip()
                when = datetime.combine(p_start + timedelta(days=j % span), datetime.min.time())
                rows.append({
                    "url": None, "title": None, "text": text,
                    "published_at": (when + timedelta(hours=9 + j % 10)).isoformat(),
                    "source": f"planted-source-{rng.randrange(plant.sources)}",
                    "channel": plant.channel,
                    "author": f"{plant.name}-author-{rng.randrange(plant.authors)}",
                    "plant": plant.name,
                })
    return rows


def inject(cfg: Config, rows: list[dict], workdir: Path) -> dict[str, list[str]]:
    """Import the planted rows into the copy; returns plant name -> doc ids."""
    path = workdir / "planted.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: v for k, v in r.items() if k != "plant"}) + "\n")
    result = import_file(path, cfg.warehouse_path)
    if result.bad_rows:
        raise RuntimeError(f"planted rows rejected: {result.bad_rows[:3]}")
    salt, now = load_salt(cfg.warehouse_path), datetime.now()
    by_plant: dict[str, list[str]] = {}
    for r in rows:
        doc = build_document(r, salt=salt, fetched_at=now)
        by_plant.setdefault(r["plant"], []).append(doc["doc_id"])
    return by_plant


def assign_deterministic(cfg: Config, plants: list[Plant], docs: dict[str, list[str]]) -> None:
    """Without the NLP stage: one passage per planted document, one new topic per plant."""
    with warehouse.write(cfg.warehouse_path) as con:
        next_id = con.execute("SELECT coalesce(max(topic_id), -1) + 1 FROM topics").fetchone()[0]
        for i, plant in enumerate(plants):
            topic_id = next_id + i
            ids = docs.get(plant.name, [])
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, service_area, first_seen, size, "
                "model_version) VALUES (?, ?, ?, 'other', ?, ?, 'planted')",
                [topic_id, plant.name, plant.phrases[0].lower().split(), plant.onset, len(ids)])
            warehouse.upsert(
                con, "passages", ("passage_id", "doc_id", "seq", "text", "n_words"), ("passage_id",),
                "SELECT doc_id || ':0' AS passage_id, doc_id, 0 AS seq, text, "
                "len(string_split(text, ' ')) AS n_words FROM documents WHERE list_contains(?, doc_id)",
                [ids])
            warehouse.upsert(
                con, "passage_topics", ("passage_id", "topic_id", "probability", "model_version"),
                ("passage_id",), "SELECT doc_id || ':0' AS passage_id, ? AS topic_id, 1.0 AS probability, "
                "'planted' AS model_version FROM documents WHERE list_contains(?, doc_id)",
                [topic_id, ids], update="topic_id = excluded.topic_id, "
                "probability = excluded.probability, model_version = excluded.model_version")


def plant_copy(cfg: Config, plants: list[Plant], workdir: Path, assign: str = "auto",
               seed: int = 0) -> tuple[Config, dict[str, list[str]], str]:
    """The planted copy: (its Config, plant name -> doc ids, how topics were assigned)."""
    copy = copy_warehouse(cfg, workdir)
    docs = inject(copy, generate(plants, cfg.analysis.period, seed), workdir)
    mode = "nlp" if assign == "auto" else assign
    if mode == "nlp":
        nlp_summary = analyze(copy)
        log.info("plant: NLP stage on the copy: %s", nlp_summary)
    else:
        assign_deterministic(copy, plants, docs)
    return copy, docs, mode


def evaluate_plant(copy: Config, plants: list[Plant], docs: dict[str, list[str]], mode: str,
                   workdir: Path, topics: str = "auto", k: int | None = None,
                   tolerance: int = 1) -> BacktestReport:
    """The backtest of a planted copy. `topics`: "replay" discovers the topics period by period
    with data up to each period only, as a live radar would (the NLP stage's topics only);
    "stored" scores the topics fitted on the whole copy (look-ahead: a fit that has seen the
    whole trend); "auto": replay when the NLP stage assigned the topics."""
    topics = plant_topics(mode, topics)
    events = [Event(p.name, [ph.lower() for ph in p.phrases], p.onset) for p in plants]
    if topics == "replay":
        report = backtest_replay(copy, events, workdir / "replay", k=k, tolerance=tolerance,
                                 max_lead=0)
    else:
        report = backtest(copy, events, k=k, tolerance=tolerance, max_lead=0)
    report.note = (f"{sum(map(len, docs.values()))} planted documents in {len(plants)} trends; "
                   f"topics assigned by {mode}, {topics}; copy at {copy.warehouse_path}; "
                   + report.note).rstrip("; ")
    return report


def plant_topics(assign: str, topics: str) -> str:
    """"replay" or "stored" for `--assign` and `--topics`; EventsFileError when they conflict."""
    nlp = assign in ("auto", "nlp")
    if topics == "auto":
        return "replay" if nlp else "stored"
    if topics == "replay" and not nlp:
        raise EventsFileError("--topics replay needs the NLP stage's topics (--assign nlp): "
                              "a replay discovers them from the passages' embeddings")
    return topics


def run_plant(cfg: Config, plants: list[Plant], workdir: Path, assign: str = "auto",
              k: int | None = None, tolerance: int = 1, seed: int = 0,
              topics: str = "auto") -> BacktestReport:
    """Plant, assign topics, replay and evaluate on a copy of the warehouse (`evaluate_plant`)."""
    plant_topics(assign, topics)  # a conflict is reported before anything is planted
    copy, docs, mode = plant_copy(cfg, plants, workdir, assign, seed)
    return evaluate_plant(copy, plants, docs, mode, workdir, topics, k, tolerance)
