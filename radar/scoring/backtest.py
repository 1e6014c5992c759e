"""`radar backtest`: would the radar have flagged known events, and how early?

Input: an events CSV (`keywords` separated by `|`, `onset` date, optional
`name`) and the corpus already in the warehouse. The periods are replayed in
order; every period is scored with the data up to and including it only (the
same causal scoring `radar analyze` stores), and for each event the report
gives the first period in which a topic matching its keywords was flagged
(stage weak signal or emerging, or ring Act or Prepare), that topic's rank by
score in the period, and the lead (negative) or lag (positive) in periods
against the onset. Precision@k is taken over each period's top-k topics
against all events that had started by then (one period of tolerance).

The topic assignment is the one the warehouse holds: topics fitted on the
whole corpus know the future in that sense, which the report states. `--plant`
(radar.app.plant) measures recall on synthetic trends injected into a copy.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from dateutil import parser as dateparser

from radar.core import warehouse
from radar.core.config import Config
from radar.core.periods import period_start
from radar.scoring.inputs import load_series
from radar.scoring.rings import FLAG_RINGS, FLAG_STAGES, effective_warmup
from radar.scoring.score import check_settings
from radar.scoring.signals import compute_signals

# A topic matches an event when a keyword is in its label or top terms, or
# when at least this share of its passages mention a keyword.
MATCH_SHARE = 0.5


class EventsFileError(ValueError):
    """The events file as a whole cannot be used (or there is nothing to replay)."""


@dataclass
class Event:
    """A known (or planted) trend: keywords and the date it began."""

    name: str
    keywords: list[str]
    onset: date


@dataclass
class EventResult:
    """How the radar did on one event."""

    name: str
    keywords: list[str]
    onset: str
    onset_period: str
    topics: list[int]
    first_flagged: str | None = None
    topic_id: int | None = None
    topic_label: str | None = None
    rank: int | None = None
    lag_periods: int | None = None   # negative = flagged before the onset (a lead)
    detected: bool = False
    onset_rank: int | None = None    # best rank of a flagged matching topic in the onset period
    new_terms: list[str] = field(default_factory=list)  # of the first flag
    reason: str | None = None        # the first flag's one-sentence reason


@dataclass
class BacktestReport:
    """Per-event results and summary figures."""

    period: str
    periods: int
    topics: int
    k: int
    tolerance: int
    events: list[EventResult]
    recall: float
    mean_delay: float | None
    precision_at_k: float | None
    precision_by_period: dict[str, float] = field(default_factory=dict)
    false_alarms: list[dict] = field(default_factory=list)
    stable_topics: int = 0
    ideal_precision_at_k: float | None = None  # what a perfect ranking would score
    bad_rows: list[str] = field(default_factory=list)
    note: str = ""
    topics_mode: str = "stored"      # stored: the warehouse's topics; replay: discovered causally
    flags_by_period: dict[str, dict] = field(default_factory=dict)  # act_prepare, flagged
    mean_act_prepare: float | None = None   # Act/Prepare topics per period after the warm-up
    onsets_in_top_k: int = 0         # events flagged in their onset period within the top k
    onsets_countable: int = 0        # events whose onset period is past the warm-up
    label_common_share: float | None = None  # share of label words that are corpus-wide common
    common_labels: list[str] = field(default_factory=list)  # largest topics' labels all common
    largest_labels: list[str] = field(default_factory=list)  # labels of the 20 largest topics

    def to_json(self) -> str:
        """The report as JSON."""
        return json.dumps(asdict(self), indent=2, default=str)


def read_events(path: Path) -> tuple[list[Event], list[str]]:
    """Events from a CSV; bad rows are returned as 'LINE: reason' and skipped."""
    if not path.exists():
        raise EventsFileError(f"{path}: file not found")
    events, bad = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"keywords", "onset"} - set(reader.fieldnames or [])
        if missing:
            raise EventsFileError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for lineno, row in enumerate(reader, start=2):
            keywords = [k.strip().lower() for k in (row.get("keywords") or "").split("|") if k.strip()]
            if not keywords:
                bad.append(f"{path}:{lineno}: no keywords")
                continue
            try:
                onset = dateparser.parse(row.get("onset") or "").date()
            except (ValueError, OverflowError):
                bad.append(f"{path}:{lineno}: onset {row.get('onset')!r} is not a date")
                continue
            name = (row.get("name") or "").strip() or keywords[0]
            events.append(Event(name, keywords, onset))
    return events, bad


def match_topics(con, events: list[Event]) -> dict[str, list[int]]:
    """Topic ids matching each event (by label/top terms or by passage text)."""
    terms = con.execute("SELECT topic_id, lower(label), top_terms FROM topics").fetchall()
    out: dict[str, list[int]] = {}
    for ev in events:
        found = set()
        for topic_id, label, top_terms in terms:
            words = [t.lower() for t in (top_terms or [])]
            if any(kw in (label or "") or kw in words or kw in " ".join(words) for kw in ev.keywords):
                found.add(topic_id)
        pattern = "|".join(re.escape(k) for k in ev.keywords)
        rows = con.execute(
            "SELECT pt.topic_id FROM passages p JOIN passage_topics pt USING (passage_id) "
            "WHERE pt.topic_id >= 0 GROUP BY pt.topic_id "
            "HAVING avg(CASE WHEN regexp_matches(lower(p.text), ?) THEN 1 ELSE 0 END) >= ?",
            [pattern, MATCH_SHARE]).fetchall()
        found.update(r[0] for r in rows)
        out[ev.name] = sorted(found)
    return out


def _flagged(row: dict) -> bool:
    return row["stage"] in FLAG_STAGES or row["ring"] in FLAG_RINGS


def evaluate(rows: list[dict], periods: list[date], events: list[Event],
             matches: dict[str, list[int]], period: str, k: int, tolerance: int,
             warmup: int, max_lead: int,
             pair_matches: dict[str, set[tuple[date, int]]] | None = None) -> BacktestReport:
    """Score the replayed signals against the events (pure).

    `matches` names the topics matching each event in every period; a prospective
    replay gives `pair_matches` instead: the (period, topic) pairs matching each
    event, as the topics stood in that period.
    """
    if pair_matches is None:
        pair_matches = {name: {(p, t) for p in periods for t in ts} for name, ts in matches.items()}
        matches = {name: sorted(ts) for name, ts in matches.items()}
    else:
        matches = {name: sorted({t for _, t in pairs}) for name, pairs in pair_matches.items()}
    index = {p: i for i, p in enumerate(periods)}
    by_period: dict[date, list[dict]] = {p: [] for p in periods}
    for r in rows:
        if r["ring"] is not None:
            by_period[r["period_start"]].append(r)
    ranks: dict[tuple[date, int], int] = {}
    for p, rs in by_period.items():
        rs.sort(key=lambda r: (-r["score"], r["topic_id"]))
        for i, r in enumerate(rs, start=1):
            ranks[(p, r["topic_id"])] = i
    results = []
    onsets: dict[tuple[date, int], int] = {}  # (period, topic) -> earliest onset index it matches
    countable = 0
    for ev in events:
        op = period_start(ev.onset, period)
        o_idx = index.get(op, len(periods) if op > periods[-1] else 0) if periods else 0
        pairs = pair_matches.get(ev.name, set())
        for pair in pairs:
            onsets[pair] = min(onsets.get(pair, o_idx), o_idx)
        res = EventResult(ev.name, ev.keywords, str(ev.onset), str(op), matches.get(ev.name, []))
        cands = [r for r in rows if (r["period_start"], r["topic_id"]) in pairs and _flagged(r)
                 and index[r["period_start"]] >= o_idx - max_lead]
        if cands:
            first = min(cands, key=lambda r: (r["period_start"], -r["score"]))
            res.first_flagged = str(first["period_start"])
            res.topic_id = first["topic_id"]
            res.rank = ranks.get((first["period_start"], first["topic_id"]))
            res.lag_periods = index[first["period_start"]] - o_idx
            res.detected = res.lag_periods <= tolerance
            res.new_terms = list(first.get("new_terms") or [])
            res.reason = (first.get("reasons") or "").split("; ")[0] or None
        at_onset = [ranks.get((op, r["topic_id"])) for r in cands if r["period_start"] == op]
        at_onset = [x for x in at_onset if x is not None]
        res.onset_rank = min(at_onset) if at_onset else None
        if o_idx >= warmup and op in index:
            countable += 1
        results.append(res)
    precision: dict[str, float] = {}
    ideal: list[float] = []
    first_onset = min(onsets.values(), default=None)
    matched_topics = {t for _, t in onsets}
    for p in periods:
        t_idx = index[p]
        if first_onset is None or t_idx < first_onset or not by_period[p]:
            continue
        relevant = [(p, r["topic_id"]) in onsets and t_idx >= onsets[(p, r["topic_id"])] - tolerance
                    for r in by_period[p]]
        precision[str(p)] = sum(relevant[:k]) / k
        # With fewer relevant topics than k on the radar, even a perfect ranking scores less.
        ideal.append(min(k, sum(relevant)) / k)
    false_alarms = []
    stable = {r["topic_id"] for r in rows} - matched_topics
    for t in sorted(stable):
        flags = [r for r in rows if r["topic_id"] == t and _flagged(r) and index[r["period_start"]] >= warmup]
        if flags:
            false_alarms.append({"topic_id": t, "first_flagged": str(flags[0]["period_start"]),
                                 "periods_flagged": len(flags)})
    detected = [r for r in results if r.detected]
    flags: dict[str, dict] = {}
    for p in periods:
        rs = by_period[p]
        flags[str(p)] = {"act_prepare": sum(r["ring"] in FLAG_RINGS for r in rs),
                         "flagged": sum(_flagged(r) for r in rs)}
    after = [flags[str(p)]["act_prepare"] for p in periods if index[p] >= warmup]
    return BacktestReport(
        period=period, periods=len(periods), topics=len({r["topic_id"] for r in rows}), k=k,
        tolerance=tolerance, events=results,
        recall=len(detected) / len(results) if results else 0.0,
        mean_delay=(sum(r.lag_periods for r in detected) / len(detected)) if detected else None,
        precision_at_k=(sum(precision.values()) / len(precision)) if precision else None,
        precision_by_period=precision, false_alarms=false_alarms, stable_topics=len(stable),
        ideal_precision_at_k=(sum(ideal) / len(ideal)) if ideal else None,
        flags_by_period=flags, mean_act_prepare=(sum(after) / len(after)) if after else None,
        onsets_in_top_k=sum(1 for r in results if r.onset_rank is not None and r.onset_rank <= k),
        onsets_countable=countable,
    )


def label_words_common(labels: list[str], common: set[str]) -> tuple[float | None, list[str]]:
    """(share of label words that are corpus-wide common words, labels made only of them)."""
    words = [[w for w in re.findall(r"\w+", (label or "").lower())] for label in labels]
    total = sum(len(w) for w in words)
    if not total or not common:
        return None, []
    share = sum(w in common for ws in words for w in ws) / total
    return share, [lab for lab, ws in zip(labels, words, strict=True) if ws and all(w in common for w in ws)]


def readability(report: BacktestReport, con, largest: int = 20) -> None:
    """Fill the report's label readability from the warehouse's topics and common terms."""
    if not warehouse.table_exists(con, "common_terms"):
        return
    common = {r[0] for r in con.execute("SELECT term FROM common_terms").fetchall()}
    labels = [r[0] for r in con.execute(
        "SELECT label FROM topics WHERE active ORDER BY size DESC, topic_id LIMIT ?",
        [largest]).fetchall()]
    report.largest_labels = labels
    report.label_common_share, report.common_labels = label_words_common(labels, common)


def backtest(cfg: Config, events: list[Event], k: int | None = None, tolerance: int = 1,
             max_lead: int | None = None) -> BacktestReport:
    """Replay the warehouse's periods with causal scoring and evaluate against `events`."""
    check_settings(cfg)
    sc = cfg.scoring
    with warehouse.read(cfg.warehouse_path) as con:
        series = load_series(con, cfg.analysis.period, scoring=sc)
        matches = match_topics(con, events)
        labels = dict(con.execute("SELECT topic_id, label FROM topics").fetchall())
    if not series.topic_ids:
        raise EventsFileError(f"{cfg.warehouse_path}: no passages with topics to replay; "
                              "run `radar analyze` first")
    rows = compute_signals(series, sc)
    report = evaluate(rows, series.periods, events, matches, cfg.analysis.period,
                      k or sc.top_k, tolerance, effective_warmup(sc.warmup_periods),
                      sc.baseline_periods if max_lead is None else max_lead)
    with warehouse.read(cfg.warehouse_path) as con:
        readability(report, con)
    for e in report.events:
        e.topic_label = labels.get(e.topic_id)
    for fa in report.false_alarms:
        fa["label"] = labels.get(fa["topic_id"])
    report.note = ("each period scored with data up to it only; topic assignment as stored in "
                   "the warehouse, fitted on the whole corpus: topic discovery has seen the future "
                   f"(scored {datetime.now():%Y-%m-%d %H:%M})")
    return report


def render(report: BacktestReport, console=None) -> None:
    """Print the per-event table and the summary figures."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=140)
    table = Table(title=f"Backtest: {len(report.events)} events, {report.periods} "
                        f"{report.period}s, {report.topics} topics ({report.topics_mode} topics)",
                  title_justify="left")
    for h in ("event", "onset", "topics", "first flagged", "rank", "lead/lag", "detected",
              "rank at onset", "label / new terms"):
        table.add_column(h)
    for e in report.events:
        lag = "" if e.lag_periods is None else f"{e.lag_periods:+d}"
        shown = ", ".join(map(str, e.topics[:6])) + (" ..." if len(e.topics) > 6 else "")
        what = (e.topic_label or "") + (f" / {', '.join(e.new_terms[:3])}" if e.new_terms else "")
        table.add_row(e.name, e.onset_period, shown or "none",
                      e.first_flagged or "never", "" if e.rank is None else str(e.rank), lag,
                      "yes" if e.detected else "no",
                      "" if e.onset_rank is None else str(e.onset_rank), what)
    console.print(table)
    delay = "n/a" if report.mean_delay is None else f"{report.mean_delay:+.2f} periods"
    prec = "n/a" if report.precision_at_k is None else f"{report.precision_at_k:.2f}"
    if report.ideal_precision_at_k is not None:
        prec += f" (a perfect ranking: {report.ideal_precision_at_k:.2f})"
    console.print(
        f"recall (within {report.tolerance} period of onset): {report.recall:.2f}; "
        f"mean detection delay: {delay}; precision@{report.k}: {prec}; "
        f"false alarms: {len(report.false_alarms)} of {report.stable_topics} topics matching no event")
    console.print(
        f"onsets flagged in their onset {report.period} within the top {report.k}: "
        f"{report.onsets_in_top_k} of {report.onsets_countable} past the warm-up")
    if report.mean_act_prepare is not None:
        console.print(f"Act/Prepare topics per {report.period} after the warm-up: "
                      f"{report.mean_act_prepare:.2f}")
    if report.flags_by_period:
        console.print("per period (Act/Prepare, flagged, precision@k): " + "; ".join(
            f"{p[:10]}: {f['act_prepare']}, {f['flagged']}, "
            + (f"{report.precision_by_period[p]:.1f}" if p in report.precision_by_period else "-")
            for p, f in report.flags_by_period.items()))
    if report.label_common_share is not None:
        console.print(f"label readability: {report.label_common_share:.0%} of the label words of "
                      f"the {len(report.largest_labels)} largest topics are corpus-wide common "
                      f"words; {len(report.common_labels)} label(s) made only of them")
    for fa in report.false_alarms:
        console.print(f"false alarm: topic {fa['topic_id']} ({fa.get('label') or 'no label'}), "
                      f"first flagged {fa['first_flagged']}, {fa['periods_flagged']} period(s)")
    for bad in report.bad_rows:
        console.print(f"skipped {bad}")
