"""The scoring stage: topic series in, one radar run of signals out.

`score(cfg)` reads the topic time series, scores every topic in every period
with data up to and including that period only (no look-ahead: the history of
the radar is what it would have said at the time), compares every period's
radar with the period before it (movement: new, back, moved in, moved out,
unchanged, left) and writes a new `radar_runs` row plus its `signals`. An
archive imported and analysed in one run so has its whole history of movement.

Readers never see half a run: signal batches are written first under a run id
taken from the sequence, and the `radar_runs` row that makes the run visible
(the `radar_latest` view follows the highest run id there) is written last.

Each run stores its latest period (its radar) and every earlier period whose
replayed radar differs from the one last stored for it (late documents, a
topic refit). Unchanged history is not stored again: a period's history is
its rows in the latest run that stored it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from radar.core import warehouse
from radar.core.config import Config, ConfigError
from radar.scoring.inputs import TopicSeries, load_series, load_terms
from radar.scoring.signals import compute_signals

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
# What movement compares with. Part of a run's parameters, so a warehouse scored
# when movement compared runs is scored once more (its latest period rewritten).
MOVEMENT_BASIS = "previous period"

SIGNAL_SCHEMA = pa.schema([
    ("run_id", pa.int64()), ("period_start", pa.date32()), ("topic_id", pa.int32()),
    ("score", pa.float64()), ("stage", pa.string()), ("ring", pa.string()),
    ("volume", pa.int32()), ("share", pa.float64()), ("growth", pa.float64()),
    ("acceleration", pa.float64()), ("burst", pa.float64()), ("dov", pa.float64()),
    ("dod", pa.float64()), ("quadrant", pa.string()), ("novelty", pa.float64()),
    ("sources", pa.int32()), ("effective_sources", pa.float64()),
    ("news_share", pa.float64()), ("policy_share", pa.float64()), ("citizen_share", pa.float64()),
    ("authors", pa.int32()), ("top_author_share", pa.float64()), ("narrow_voice", pa.bool_()),
    ("show_quotes", pa.bool_()), ("expectation_share", pa.float64()),
    ("expectation_growth", pa.float64()), ("expectation_gap", pa.float64()),
    ("gap_risk", pa.bool_()), ("previous_ring", pa.string()), ("movement", pa.string()),
    ("reasons", pa.string()), ("expected", pa.float64()), ("surprise", pa.float64()),
    ("kem_frequency", pa.float64()), ("kem_growth", pa.float64()),
    ("citizen_attention", pa.float64()), ("policy_attention", pa.float64()),
    ("theme", pa.string()),
])


@dataclass
class ScoreSummary:
    """What one scoring run did."""

    run_id: int | None
    periods: int
    topics: int
    signals: int
    latest_period: date | None
    rings: dict[str, int] = field(default_factory=dict)
    movements: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    unchanged: bool = False  # inputs and settings as in the last run: nothing written
    periods_stored: int = 0  # periods written: the latest and any whose radar changed


# [scoring] settings that must be at least this (the loader checks types, not ranges).
_MINIMA = {"min_authors": 1, "baseline_periods": 1, "min_volume": 1, "warmup_periods": 0,
           "burst_s": 1.0001, "burst_gamma": 0.0, "novelty_half_life": 0.01, "kem_time_weight": 0.0,
           "min_sources": 1, "min_effective_sources": 1.0, "gap_periods": 1, "top_k": 1}


def check_settings(cfg: Config) -> None:
    """Stop with a ConfigError naming the key when a [scoring] value is out of range."""
    where = cfg.path or "radar.toml"
    for key, low in _MINIMA.items():
        value = getattr(cfg.scoring, key)
        if value < low:
            raise ConfigError(f"{where}: scoring.{key}: must be at least {low:g}, got {value!r}")
    sc = cfg.scoring
    if not 0 <= sc.max_top_author_share <= 1 or not 0 <= sc.kem_time_weight < 1:
        raise ConfigError(f"{where}: scoring.max_top_author_share and kem_time_weight must be "
                          "between 0 and 1")
    if not 0 < sc.fdr < 1:
        raise ConfigError(f"{where}: scoring.fdr must be between 0 and 1 (exclusive), got {sc.fdr!r}")
    if sc.prepare_score > sc.act_score:
        raise ConfigError(f"{where}: scoring.prepare_score ({sc.prepare_score:g}) must not be above "
                          f"scoring.act_score ({sc.act_score:g})")


def _previous_run(con) -> int | None:
    row = con.execute("SELECT max(run_id) FROM radar_runs").fetchone()
    return row[0] if row else None


def period_digests(table: pa.Table) -> dict[date, str]:
    """A hash of each period's radar (every column but run_id), to store only what changed.

    `table` has the SIGNAL_SCHEMA columns; floats are rounded to 9 digits so
    summation order (SQL groups arrive in any order) does not count as a change.
    """
    names = [n for n in SIGNAL_SCHEMA.names if n != "run_id"]
    table = table.select(names).cast(pa.schema([SIGNAL_SCHEMA.field(n) for n in names]))
    if table.num_rows == 0:
        return {}
    columns = [pc.round(c, 9) if pa.types.is_floating(c.type) else c for c in table.columns]
    table = pa.table(columns, names=names)
    table = table.take(pc.sort_indices(table, sort_keys=[("period_start", "ascending"),
                                                         ("topic_id", "ascending")]))
    periods = table["period_start"].to_pylist()
    values = [table[n].to_pylist() for n in names]
    out: dict[date, str] = {}
    for period, rows in itertools.groupby(range(len(periods)), key=periods.__getitem__):
        rows = list(rows)  # one period's rows: together after the sort
        digest = hashlib.sha256()
        for column in values:
            digest.update(repr(column[rows[0]:rows[-1] + 1]).encode())
        out[period] = digest.hexdigest()
    return out


def _stored_digests(con, period: str) -> dict[date, str]:
    """The digest of every period the history holds for `period` (runs in other periods
    hold none: after the setting changes, every period is stored again)."""
    names = ", ".join(f's."{n}"' for n in SIGNAL_SCHEMA.names)
    table = con.execute(f"""
        SELECT {names} FROM signals s
        JOIN (SELECT period_start, max(run_id) AS run_id FROM signals
              WHERE run_id IN (SELECT run_id FROM radar_runs WHERE period = ?)
              GROUP BY period_start)
        USING (period_start, run_id)
    """, [period]).to_arrow_table()
    return period_digests(table)


def _model_version(con) -> str | None:
    if not warehouse.table_exists(con, "topic_models"):
        return None
    row = con.execute("SELECT model_version FROM topic_models ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


def _insert_signals(con, rows: list[dict], run_id: int) -> None:
    for r in rows:
        r["run_id"] = run_id
    con.register("signal_batch", pa.Table.from_pylist(rows, schema=SIGNAL_SCHEMA))
    con.execute("INSERT INTO signals BY NAME SELECT * FROM signal_batch")
    con.unregister("signal_batch")


_RUN_SQL = ("INSERT INTO radar_runs (run_id, period, period_start, model_version, parameters, "
            "topics, periods, signals, periods_stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _write_run(path, rows: list[dict], run_values: list, progress: Callable | None) -> int:
    """Write the signals and then the run row; one transaction when it fits in one batch."""
    with warehouse.write(path) as con:
        # Leftovers of an interrupted run (signals without a run row) are dropped.
        con.execute("DELETE FROM signals WHERE run_id NOT IN (SELECT run_id FROM radar_runs)")
        run_id = warehouse.next_id(con, "radar_run_seq")
        if len(rows) <= BATCH_ROWS:
            _insert_signals(con, rows, run_id)
            con.execute(_RUN_SQL, [run_id, *run_values])
            return run_id
    # Large runs: batches in their own short transactions (readers get turns in
    # between); the run row last, so radar_runs never names a half-written run.
    for lo in range(0, len(rows), BATCH_ROWS):
        with warehouse.write(path) as con:
            _insert_signals(con, rows[lo:lo + BATCH_ROWS], run_id)
        if progress:
            progress(min(lo + BATCH_ROWS, len(rows)), len(rows))
    with warehouse.write(path) as con:
        con.execute(_RUN_SQL, [run_id, *run_values])
    return run_id


def fingerprint(series: TopicSeries) -> str:
    """A hash of the inputs, so an unchanged warehouse is not scored twice."""
    h = hashlib.sha256()
    h.update(json.dumps([str(p) for p in series.periods]).encode())
    h.update(json.dumps(series.topic_ids).encode())
    for arr in (series.passages, series.documents, series.expectation, series.sources,
                series.authors, series.total_passages, *series.channel_passages.values()):
        h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
    return h.hexdigest()[:16]


def score(cfg: Config, progress: Callable | None = None, force: bool = False) -> ScoreSummary:
    """Score the warehouse's topic series and store a new radar run (see module doc).

    When neither the inputs nor the scoring settings changed since the last
    run, nothing is written (unless `force`) and the last run is summarised.
    """
    return store_run(cfg, plan_run(cfg, force=force), progress)


@dataclass
class RunPlan:
    """A radar run computed by `plan_run` and not yet stored (`store_run`)."""

    rows: list[dict]             # the signals of the periods to store
    run_values: list             # the radar_runs row's values after run_id
    latest: date | None
    topics: int
    periods: int
    stored_periods: int
    started: float               # time.monotonic() when planning began


def plan_run(cfg: Config, force: bool = False) -> RunPlan | ScoreSummary:
    """Read the warehouse and compute the radar run `score` would store; only reads, so it
    may run beside another stage's writes (radar/app/analysis.py). A ScoreSummary instead
    when the inputs and settings are those of the last run (and not `force`)."""
    started = time.monotonic()
    check_settings(cfg)
    sc, period = cfg.scoring, cfg.analysis.period
    path = cfg.warehouse_path
    with warehouse.read(path) as con:
        series = load_series(con, period, with_terms=False)
        K, T = series.shape
        params = {"period": period, "scoring": dataclasses.asdict(sc),
                  "inputs": fingerprint(series), "movement": MOVEMENT_BASIS}
        prev_run = _previous_run(con)
        if prev_run is not None and not force:
            prev_params = con.execute(
                "SELECT parameters FROM radar_runs WHERE run_id = ?", [prev_run]).fetchone()[0]
            if prev_params is not None and json.loads(prev_params) == params:
                log.info("scoring: inputs and settings unchanged since run %s", prev_run)
                return ScoreSummary(prev_run, T, K, 0, series.periods[-1] if T else None,
                                    seconds=time.monotonic() - started, unchanged=True)
        model_version = _model_version(con)
        stored = _stored_digests(con, period)
        series.terms = load_terms(con, series, period, scoring=sc) if K and T else None
    rows = compute_signals(series, sc)
    latest = series.periods[-1] if T else None
    digests = period_digests(pa.Table.from_pylist(rows, schema=SIGNAL_SCHEMA))
    keep = {p for p, d in digests.items() if p == latest or stored.get(p) != d}
    rows = [r for r in rows if r["period_start"] in keep]
    return RunPlan(rows, [period, latest, model_version, json.dumps(params), K, T, len(rows),
                          len(keep)], latest, K, T, len(keep), started)


def store_run(cfg: Config, plan: RunPlan | ScoreSummary,
              progress: Callable | None = None) -> ScoreSummary:
    """Store a planned radar run (signal batches first, the run row that shows it last)."""
    if isinstance(plan, ScoreSummary):
        return plan
    rows, latest = plan.rows, plan.latest
    total = len(rows)
    run_id = _write_run(cfg.warehouse_path, rows, plan.run_values, progress)
    if progress:
        progress(total, total)
    summary = ScoreSummary(run_id, plan.periods, plan.topics, total, latest,
                           seconds=time.monotonic() - plan.started,
                           periods_stored=plan.stored_periods)
    for r in rows:
        if r["period_start"] != latest:
            continue
        if r["ring"]:
            summary.rings[r["ring"]] = summary.rings.get(r["ring"], 0) + 1
        if r["movement"]:
            summary.movements[r["movement"]] = summary.movements.get(r["movement"], 0) + 1
    log.info("scoring run %s: %d topics x %d periods, %d signals in %.1fs",
             run_id, plan.topics, plan.periods, total, summary.seconds)
    return summary
