"""A prospective replay: the radar of every period as it would have been, topics included.

`radar backtest` used to score each period causally on the topics stored in the
warehouse, but those topics were fitted on the whole corpus: topic discovery
had seen the future. Here a copy of the warehouse forgets every topic decision
and receives its passages period by period (their terms and embeddings are
reused, so nothing is embedded again); after each period the ordinary NLP topic
step runs (first fit once there are enough passages, then assign, discover new
topics among outliers, refit when the corpus has grown by `refit_growth`,
keeping topic ids), labels are refreshed, and the period is scored with the
series as it stands. Only that period's radar is kept: each period's verdict
uses what was known at its end, exactly what a live radar run at the end of
the period would have shown.

This module wires the NLP stage and the scoring stage, so it belongs to the
app layer (it imports both).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from nlp.refresh import refresh_labels, refresh_stats
from nlp.topic_step import run_topic_step
from radar.app.copies import copy_warehouse
from radar.core import warehouse
from radar.core.config import Config
from radar.core.periods import period_start_sql
from radar.scoring.backtest import MATCH_SHARE, Event, EventsFileError, evaluate, readability
from radar.scoring.inputs import load_series
from radar.scoring.rings import effective_warmup
from radar.scoring.score import check_settings
from radar.scoring.signals import compute_signals

log = logging.getLogger(__name__)

_FORGET = ("passage_topics", "topics", "topic_models", "nlp_runs", "signals", "radar_runs",
           "common_terms")


@dataclass
class ReplayResult:
    """The replayed signals of every period, and what each event matched, period by period."""

    rows: list[dict]
    periods: list[date]
    matches: dict[str, set[tuple[date, int]]]     # event -> (period, topic) pairs it matches
    labels: dict[tuple[date, int], str] = field(default_factory=dict)
    common: set[str] = field(default_factory=set)  # common terms learned at the last period
    topics: int = 0
    seconds: float = 0.0
    actions: list[str] = field(default_factory=list)


def prepare_copy(cfg: Config, workdir: Path) -> Config:
    """A copy of the warehouse with every topic decision forgotten and every embedding held back."""
    copy = copy_warehouse(cfg, workdir, with_models=False)
    model = cfg.analysis.vector_model
    period = cfg.analysis.period
    with warehouse.write(copy.warehouse_path) as con:
        for table in _FORGET:
            if warehouse.table_exists(con, table):
                con.execute(f"DELETE FROM {table}")
        con.execute(f"""
            CREATE OR REPLACE TABLE replay_held AS
            SELECT e.*, {period_start_sql(period)} AS replay_period
            FROM passage_embeddings e JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
            WHERE e.model = ?""", [model])
        con.execute("DELETE FROM passage_embeddings")
    return copy


def held_periods(copy: Config) -> list[date]:
    """The periods of the held-back passages, in order."""
    with warehouse.read(copy.warehouse_path) as con:
        return [r[0] for r in con.execute(
            "SELECT DISTINCT replay_period FROM replay_held ORDER BY 1").fetchall()]


def release(copy: Config, period: date) -> int:
    """Give the NLP stage the passages of one more period; returns how many."""
    with warehouse.write(copy.warehouse_path) as con:
        cols = [r[0] for r in con.execute("DESCRIBE passage_embeddings").fetchall()]
        names = ", ".join(cols)
        con.execute(f"INSERT INTO passage_embeddings ({names}) SELECT {names} FROM replay_held "
                    "WHERE replay_period = ?", [period])
        return con.execute("SELECT count(*) FROM replay_held WHERE replay_period = ?",
                           [period]).fetchone()[0]


def _norm(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def _words(text: str) -> list[str]:
    return [_norm(w) for w in re.findall(r"[\w/-]+", text.lower())]


def _content(words: list[str]) -> list[str]:
    """The words a term can hold: terms are lemmas of content words, so "responsibility to
    protect" is shown as the term "responsibility protect"."""
    stop = _stop_words()
    return [w for w in words if w not in stop] or words


@functools.cache
def _stop_words() -> frozenset[str]:
    """spaCy's English stop words, imported when first needed: importing spaCy at the top
    would load thinc, and with it torch (~2 s, ~300 MB), in every `radar analyze` before
    the NLP stage could load spaCy without torch (radar.core.spacy_imports.torch_hidden)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _contains(long: list[str], short: list[str]) -> bool:
    n = len(short)
    return n > 0 and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def terms_match(keywords: list[str], terms: list[str]) -> bool:
    """A keyword inside a term, or a term inside a keyword holding at least half of its
    content words, as whole content words, plurals folded ("landmines" matches the lemma
    "landmine"; "climate" matches "climate change"; "responsibility to protect" matches
    "responsibility protect"; "council" does not match "an AI chatbot for council services":
    one word of four, which any council topic holds)."""
    for kw in keywords:
        k = _content(_words(kw))
        for term in terms:
            t = _content(_words(term))
            keyword_in_term = _contains(t, k)
            term_in_keyword = 2 * len(t) >= len(k) and _contains(k, t)
            if len(" ".join(t)) >= 4 and (keyword_in_term or term_in_keyword):
                return True
    return False


def period_matches(con, events: list[Event], period: str, when: date) -> dict[str, set[int]]:
    """Topics matching each event in one period: label or top terms as they stand, or at
    least MATCH_SHARE of the topic's passages of that period mentioning a keyword."""
    topics = con.execute("SELECT topic_id, label, top_terms FROM topics WHERE active").fetchall()
    out: dict[str, set[int]] = {}
    for ev in events:
        found = {t for t, label, top in topics
                 if terms_match(ev.keywords, [label or ""] + list(top or []))}
        pattern = "|".join(re.escape(k) for k in ev.keywords)
        found.update(r[0] for r in con.execute(f"""
            SELECT pt.topic_id FROM passages p JOIN passage_topics pt USING (passage_id)
            JOIN documents d USING (doc_id)
            WHERE pt.topic_id >= 0
              AND {period_start_sql(period)} = ?
            GROUP BY pt.topic_id
            HAVING avg(CASE WHEN regexp_matches(lower(p.text), ?) THEN 1 ELSE 0 END) >= ?""",
                                                 [when, pattern, MATCH_SHARE]).fetchall())
        out[ev.name] = found
    return out


def replay(cfg: Config, events: list[Event], workdir: Path,
           progress: Callable[[int, int, str], None] | None = None) -> ReplayResult:
    """Replay every period prospectively on a copy in `workdir` (see module doc)."""

    started = time.monotonic()
    copy = prepare_copy(cfg, workdir)
    periods = held_periods(copy)
    if not periods:
        raise EventsFileError(f"{cfg.warehouse_path}: no embedded passages to replay; "
                              "run `radar analyze` first")
    a, sc = cfg.analysis, cfg.scoring
    result = ReplayResult([], periods, {e.name: set() for e in events})
    for i, when in enumerate(periods):
        n = release(copy, when)
        outcome = run_topic_step(copy)
        result.actions.append(f"{when}: {n} passages, {outcome.action}")
        refresh_stats(copy.warehouse_path, a.period, a.representative_passages)
        refresh_labels(copy.warehouse_path, a.stop_words, a.period)
        with warehouse.read(copy.warehouse_path) as con:
            series = load_series(con, a.period, scoring=sc)
            if series.topic_ids and series.periods and series.periods[-1] == when:
                rows = [r for r in compute_signals(series, sc) if r["period_start"] == when]
                result.rows.extend(rows)
                labels = dict(con.execute("SELECT topic_id, label FROM topics").fetchall())
                for r in rows:
                    result.labels[(when, r["topic_id"])] = labels.get(r["topic_id"])
                for name, topics in period_matches(con, events, a.period, when).items():
                    result.matches[name].update((when, t) for t in topics)
                # A flag whose new terms name the event matches it too.
                for r in rows:
                    for ev in events:
                        if r.get("new_terms") and terms_match(ev.keywords, r["new_terms"]):
                            result.matches[ev.name].add((when, r["topic_id"]))
            if i == len(periods) - 1:
                result.common = {r[0] for r in con.execute("SELECT term FROM common_terms").fetchall()}
                result.topics = con.execute("SELECT count(*) FROM topics WHERE active").fetchone()[0]
        if progress:
            progress(i + 1, len(periods), f"replayed {when}")
        log.info("replay %s: %s", when, result.actions[-1])
    result.seconds = time.monotonic() - started
    return result


def backtest_replay(cfg: Config, events: list[Event], workdir: Path, k: int | None = None,
                    tolerance: int = 1, max_lead: int | None = None,
                    progress: Callable[[int, int, str], None] | None = None):
    """`radar backtest` with topics discovered prospectively: a BacktestReport."""
    check_settings(cfg)
    return replay_report(cfg, events, replay(cfg, events, workdir, progress), workdir, k,
                         tolerance, max_lead)


def replay_report(cfg: Config, events: list[Event], res: ReplayResult, workdir: Path,
                  k: int | None = None, tolerance: int = 1, max_lead: int | None = None):
    """The BacktestReport of a replay run in `workdir` (`replay`)."""
    sc = cfg.scoring
    report = evaluate(res.rows, res.periods, events, {}, cfg.analysis.period, k or sc.top_k,
                      tolerance, effective_warmup(sc.warmup_periods),
                      sc.baseline_periods if max_lead is None else max_lead,
                      pair_matches=res.matches)
    for e in report.events:
        if e.first_flagged is not None:
            e.topic_label = res.labels.get((date.fromisoformat(e.first_flagged), e.topic_id))
    for fa in report.false_alarms:
        fa["label"] = res.labels.get((date.fromisoformat(fa["first_flagged"]), fa["topic_id"]))
    with warehouse.read(workdir.resolve() / cfg.warehouse_path.name) as con:
        readability(report, con)
    report.topics = res.topics or report.topics
    report.topics_mode = "replay"
    report.note = (f"prospective: topics discovered with data up to each period only (fit, assign, "
                   f"discover, refit as a live radar), then that period scored; "
                   f"{len(res.periods)} periods replayed in {res.seconds:.0f} s "
                   f"(scored {datetime.now():%Y-%m-%d %H:%M})")
    return report


def can_replay(cfg: Config) -> bool:
    """Whether a prospective replay is possible: the warehouse holds embedded passages of
    the configured model."""
    if not warehouse.exists(cfg.warehouse_path):
        return False
    with warehouse.read(cfg.warehouse_path) as con:
        if not warehouse.table_exists(con, "passage_embeddings"):
            return False
        return con.execute("SELECT count(*) > 0 FROM passage_embeddings WHERE model = ?",
                           [cfg.analysis.vector_model]).fetchone()[0]
