"""`radar serve`: run the pipeline on the `[schedule]` cron and serve the dashboard.

The scheduler runs in the foreground process: at each time of the cron
expression (`[schedule] run`, UTC, croniter syntax; a sixth field counts
seconds) it runs `run_pipeline` with the `[schedule] stages`. Runs never
overlap: a run that is due while one is going (here or from a `radar run` in
another shell) is skipped and logged. Each run is logged with its stage lines
and appended as one JSON line to `<warehouse>.runs.jsonl`.

The dashboard runs as a child process (`radar dashboard`), restarted if it dies.

On SIGTERM or SIGINT the service stops scheduling, lets the current run finish
its batch (stages are never interrupted halfway), stops the dashboard and
exits 0. Runs happen in this process, so the libraries stay imported between runs (spaCy,
ONNX Runtime, UMAP's compiled code: ~1 s of a fresh `radar analyze`), and the spaCy
pipeline and embedding model stay loaded (`nlp.loaded.WarmModels`; 0.3-0.4 s of a scheduled 1%
run on the dev corpus, docs/deploy.md): spaCy's
pipeline is loaded afresh once its vocabulary has grown by `MAX_NEW_LEXEMES` word forms,
so months of news do not grow the service's memory without bound.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nlp.loaded import WarmModels
from radar.app.pipeline import PipelineLocked, RunSummary, run_pipeline
from radar.core.config import Config, ConfigError

log = logging.getLogger(__name__)

QUICK_EXIT_SECONDS = 30
MAX_QUICK_EXITS = 3


@dataclass
class ServeState:
    """What the service has done (returned when it stops; handy for tests and logs)."""

    runs: int = 0
    skipped: int = 0
    exit_codes: list[int] = field(default_factory=list)


def next_time(expr: str, after: datetime) -> datetime:
    """The next time the cron expression fires after `after` (naive UTC)."""
    from croniter import croniter

    return croniter(expr, after).get_next(datetime)


def check_schedule(cfg: Config) -> None:
    """Raise ConfigError for a cron expression croniter cannot read."""
    from croniter import croniter

    if not croniter.is_valid(cfg.schedule.run):
        raise ConfigError(
            f"{cfg.path}: schedule.run: not a valid cron expression: {cfg.schedule.run!r} "
            "(five fields: minute hour day month weekday; an optional sixth counts seconds)"
        )


def runs_log_path(cfg: Config) -> Path:
    """The JSON Lines history of scheduled runs beside the warehouse."""
    wh = cfg.warehouse_path
    return wh.with_name(wh.name + ".runs.jsonl")


class Service:
    """The scheduler loop plus the dashboard child process."""

    def __init__(self, cfg: Config, dashboard: bool = True, port: int | None = None) -> None:
        check_schedule(cfg)
        self.cfg = cfg
        self.dashboard = dashboard
        self.port = port
        self.stop_event = threading.Event()
        self.state = ServeState()
        self._child: subprocess.Popen | None = None
        self._child_started = 0.0
        self._quick_exits = 0
        self.models = WarmModels()  # the analysis's models, kept between runs

    def request_stop(self, signum: int | None = None, _frame=None) -> None:
        """Stop after the current run (signal handler)."""
        if not self.stop_event.is_set():
            name = signal.Signals(signum).name if signum else "request"
            log.info("serve: %s received; finishing the current run, then stopping", name)
        self.stop_event.set()

    def run_forever(self) -> ServeState:
        """Schedule runs until asked to stop; returns what was done."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self._start_dashboard()
        expr = self.cfg.schedule.run
        log.info("serve: schedule %r, stages %s", expr, ", ".join(self.cfg.schedule.stages))
        try:
            while not self.stop_event.is_set():
                now = _utcnow()
                due = next_time(expr, now)
                log.info("serve: next run at %s UTC", due.isoformat(timespec="seconds"))
                while not self.stop_event.is_set():
                    self._watch_dashboard()
                    wait = (due - _utcnow()).total_seconds()
                    if wait <= 0:
                        break
                    self.stop_event.wait(min(wait, 5.0))
                if self.stop_event.is_set():
                    break
                self.run_once()
        finally:
            self._stop_dashboard()
        log.info("serve: stopped after %d runs (%d skipped)", self.state.runs, self.state.skipped)
        return self.state

    def run_once(self) -> RunSummary | None:
        """One scheduled run, logged; a locked pipeline is skipped, not an error."""
        started = _utcnow()
        log.info("serve: run started")
        try:
            summary = run_pipeline(self.cfg, stages=tuple(self.cfg.schedule.stages),
                                   warm=self.models)
        except PipelineLocked as exc:
            self.state.skipped += 1
            log.warning("serve: run skipped: %s", exc)
            self._record({"started_at": started.isoformat(), "skipped": str(exc)})
            return None
        self.state.runs += 1
        self.state.exit_codes.append(summary.exit_code)
        for line in summary.lines():
            log.info("serve: %s", line)
        log.info("serve: run finished with exit code %d", summary.exit_code)
        self._record({
            "started_at": summary.started_at.isoformat(),
            "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
            "exit_code": summary.exit_code,
            "stages": [{"stage": s.stage, "status": s.status, "detail": s.detail,
                        "seconds": round(s.seconds, 2)} for s in summary.stages],
        })
        return summary

    def _record(self, entry: dict) -> None:
        try:
            with runs_log_path(self.cfg).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
        except OSError as exc:
            log.warning("serve: could not append to the run log: %s", exc)

    # --- the dashboard child
    def _dashboard_cmd(self) -> list[str]:
        cmd = [sys.executable, "-m", "radar.app.cli", "dashboard", "--config", str(self.cfg.path)]
        if self.port:
            cmd += ["--port", str(self.port)]
        return cmd

    def _start_dashboard(self) -> None:
        if not self.dashboard:
            return
        self._child = subprocess.Popen(self._dashboard_cmd())
        self._child_started = time.monotonic()
        port = self.port or self.cfg.dashboard.port
        log.info("serve: dashboard on http://127.0.0.1:%s (pid %d)", port, self._child.pid)

    def _watch_dashboard(self) -> None:
        if self._child is None or self._child.poll() is None:
            return
        code = self._child.returncode
        # A dashboard that dies at once (bad port, broken install) is not restarted forever.
        quick = time.monotonic() - self._child_started < QUICK_EXIT_SECONDS
        self._quick_exits = self._quick_exits + 1 if quick else 0
        if self._quick_exits >= MAX_QUICK_EXITS:
            log.error("serve: dashboard exited with %s %d times in a row right after starting; "
                      "not restarting it (the schedule goes on)", code, self._quick_exits)
            self._child = None
            return
        log.warning("serve: dashboard exited with %s; restarting", code)
        self._start_dashboard()

    def _stop_dashboard(self) -> None:
        if self._child is None or self._child.poll() is not None:
            return
        self._child.terminate()
        try:
            self._child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def serve(cfg: Config, dashboard: bool = True, port: int | None = None) -> ServeState:
    """Run the service until SIGTERM/SIGINT."""
    return Service(cfg, dashboard=dashboard, port=port).run_forever()
