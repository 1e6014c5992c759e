"""`radar run`: crawl, analyse, alert, as one pipeline that never overlaps itself.

One run takes a cross-process lock on a file beside the warehouse
(`<warehouse>.run.lock`, `fcntl.flock`, non-blocking): a second `radar run` or
a scheduled run of `radar serve` that starts while one is going exits at once
with `PipelineLocked`, naming the holder. (The warehouse's own reader/writer
lock only serialises single batches; this one serialises whole runs.)

Stages run in order and each is recorded in the `RunSummary`:

- crawl: every source; a failing source is reported and the others go on;
- analyze: the NLP stage, then the radar scoring, then the search index
  (when DuckDB's fts extension is available);
- alert: e-mail alerts, only when the analysis succeeded (a stale radar must
  not trigger alerts).

Exit code (`RunSummary.exit_code`): 0 when everything succeeded, 1 when some
part failed but the rest ran (see the summary), 2 when nothing succeeded.
`radar run` exits 3 when another run holds the lock.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from crawlers import distributed
from crawlers.run import crawl_sources
from nlp.loaded import WarmModels
from radar.alerts import send_alerts
from radar.alerts.subscriptions import sync as sync_subscriptions
from radar.app.analysis import analyze_and_score
from radar.core import readcopy, warehouse
from radar.core.config import Config
from radar.core.documents import utcnow
from radar.core.locks import LOCKED_EXIT, WriterLocked, writer_lock_path  # noqa: F401
from radar.core.search_index import build_search_index
from radar.decisions import LoopSummary
from radar.decisions import update as update_loop

log = logging.getLogger(__name__)

STAGES = ("crawl", "analyze", "alert")


# Another radar command holds the warehouse's writer lock (radar.core.locks).
PipelineLocked = WriterLocked


@dataclass
class StageResult:
    """How one stage of a run went."""

    stage: str
    status: str  # ok | partial | failed | skipped
    detail: str = ""
    seconds: float = 0.0
    result: Any = None  # the stage's own summary object


@dataclass
class RunSummary:
    """What a pipeline run did, stage by stage."""

    started_at: datetime
    finished_at: datetime | None = None
    stages: list[StageResult] = field(default_factory=list)

    def stage(self, name: str) -> StageResult | None:
        """The result of the named stage, if it ran."""
        return next((s for s in self.stages if s.stage == name), None)

    @property
    def exit_code(self) -> int:
        """0 all succeeded, 1 something failed but other parts succeeded, 2 nothing did."""
        ran = [s for s in self.stages if s.status != "skipped"]
        if ran and all(s.status == "ok" for s in ran) and len(ran) == len(self.stages):
            return 0
        if any(s.status in ("ok", "partial") for s in ran):
            return 1
        return 2

    def lines(self) -> list[str]:
        """A short human summary, one line per stage."""
        out = []
        for s in self.stages:
            took = f" ({s.seconds:.1f}s)" if s.seconds else ""
            out.append(f"{s.stage:<8} {s.status:<8}{took} {s.detail}".rstrip())
        return out


def lock_path(cfg: Config) -> Path:
    """The writer lock file beside the warehouse (shared by every writing command)."""
    return writer_lock_path(cfg.warehouse_path)


@contextmanager
def run_lock(cfg: Config, command: str = "radar run") -> Iterator[Path]:
    """Hold the warehouse's writer lock or raise PipelineLocked at once (never waits);
    runs a dead process left "running" are marked interrupted first."""
    readcopy.configure(cfg.warehouse_path, cfg.warehouse.reader_copy_every)
    with warehouse.exclusive(cfg.warehouse_path, command):
        yield lock_path(cfg)


Progress = Callable[..., None] | None


def run_pipeline(cfg: Config, progress: Progress = None,
                 stages: tuple[str, ...] = STAGES, warm: WarmModels | None = None) -> RunSummary:
    """Run the stages in order under the run lock; raises PipelineLocked if one is running.

    `warm`: the analysis's models, kept loaded for the next run of this process
    (`radar serve`; nlp/loaded.py)."""
    with run_lock(cfg):
        summary = RunSummary(started_at=utcnow())
        for name in stages:
            if name == "alert" and _failed(summary, "analyze"):
                summary.stages.append(StageResult("alert", "skipped", "analysis failed"))
                continue
            summary.stages.append(_run_stage(name, cfg, progress, warm))
        summary.finished_at = utcnow()
        for line in summary.lines():
            log.info("run: %s", line)
        return summary


def _failed(summary: RunSummary, name: str) -> bool:
    s = summary.stage(name)
    return s is not None and s.status == "failed"


def _run_stage(name: str, cfg: Config, progress: Progress,
               warm: WarmModels | None = None) -> StageResult:
    func = {"crawl": crawl_stage, "analyze": partial(analyze_stage, warm=warm),
            "alert": alert_stage}[name]
    t0 = time.monotonic()
    try:
        result = func(cfg, progress)
    except Exception as exc:  # one stage failing must not lose the summary of the others
        log.error("%s stage failed: %s\n%s", name, exc, traceback.format_exc())
        result = StageResult(name, "failed", f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - t0
    return result


def crawl_stage(cfg: Config, progress: Progress = None) -> StageResult:
    """Crawl every source; the status says how many sources failed."""
    if not cfg.sources:
        return StageResult("crawl", "ok", "no sources configured", result=[])
    # With a shared queue the scheduled crawl starts a round that workers help with.
    mode = distributed.SEED if cfg.crawl.queue else None
    rows = crawl_sources(cfg, progress=progress, queue_mode=mode)
    failed = [r.source for r in rows if r.status == "failed"]
    partial = [r.source for r in rows if r.status == "partial"]
    new = sum(r.new_documents for r in rows)
    detail = f"{len(rows)} sources, {new} new documents"
    if failed:
        detail += f"; failed: {', '.join(failed)}"
    if partial:
        detail += f"; with errors: {', '.join(partial)}"
    if rows and len(failed) == len(rows):
        status = "failed"
    elif failed or partial:
        status = "partial"
    else:
        status = "ok"
    return StageResult("crawl", status, detail, result=rows)


def analyze_stage(cfg: Config, progress: Progress = None,
                  warm: WarmModels | None = None) -> StageResult:
    """NLP with the scoring beside its refresh (radar/app/analysis.py), then the decision
    loop, then (if available) the full-text search index; `warm` keeps the NLP models
    loaded for the next run."""
    nlp, scored = analyze_and_score(cfg, progress, warm=warm, score_progress=progress)
    detail = (f"{nlp.new_passages} new passages, {nlp.topics} topics ({nlp.action}); "
              f"radar run {scored.run_id}: {scored.signals} signals")
    # The decision loop after every scoring: matches, watch list, signposts (docs/decisions.md).
    loop = decision_loop(cfg)
    detail += f"; {loop.line()}"
    indexed = build_search_index(cfg.warehouse_path)
    if not indexed.available:
        detail += f"; {indexed.reason or 'search index unavailable'}"
    return StageResult("analyze", "ok", detail, result=(nlp, scored, loop))


def decision_loop(cfg: Config) -> LoopSummary:
    """The decisions stage after scoring, with radar.toml's subscriptions synced first so a
    watch-list item that moves is told to every current subscriber."""
    sync_subscriptions(cfg)
    return update_loop(cfg)


def alert_stage(cfg: Config, progress: Progress = None) -> StageResult:
    """Send due e-mail alerts."""
    # Always run: subscriptions may live only in the warehouse table, and queued
    # messages from an earlier run (SMTP down) are delivered now.
    s = send_alerts(cfg)
    detail = f"{len(s.messages)} messages composed, {s.sent} sent, {s.queued} queued"
    if s.failed or s.errors:
        detail += f", {s.failed} failed" + (f": {s.errors[0]}" if s.errors else "")
        return StageResult("alert", "partial", detail, result=s)
    return StageResult("alert", "ok", detail, result=s)
