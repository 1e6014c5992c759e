"""One background writer per crawl process: batches from every source, off the reactor.

Opening the warehouse, writing and checkpointing takes tens of milliseconds per
transaction; done in the reactor thread, per source, it stalls every download.
So the pipelines of all sources append rows to one shared batch, and a writer
thread commits it (one transaction through `radar.core.warehouse.write`) whenever it
holds `batch_size` rows or `interval` seconds have passed. Closing the writer
commits what is left and waits for it.

A document's crawl state (ETag, Last-Modified, change marker) is committed in the
same transaction as the document, so a failed batch leaves no state behind and
its pages are fetched again next run. An index page's validators (the feed's
ETag ...) cover every entry of the source: they are dropped, not saved, once any
batch holding that source's rows failed, or the next run would get a 304 and
skip the lost entries for good. A failed batch is recorded as an error of each
of its sources, and their runs are closed as partial.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from crawlers import batches

log = logging.getLogger(__name__)


class SharedWriter:
    """Collects rows in `batch` (reactor thread) and commits them in a writer thread."""

    def __init__(self, path: Path, batch_size: int = 200, interval: float = 5.0,
                 reconcile=None) -> None:
        self.path = path
        self.reconcile = reconcile  # a crawlers.reconcile.Reconciler in distributed crawls
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.batch = batches.Batch()
        self.finished: list[dict] = []          # crawl_runs rows to close in the next batch
        self.failure: str = ""                  # the last write error, if any
        self.failed_sources: set[str] = set()   # sources that lost rows to a failed write
        self.run_ids: dict[str, int] = {}       # source -> its crawl_runs id (set by the pipeline)
        self._queue: queue.Queue = queue.Queue()
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._work, name="radar-writer", daemon=True)
        self._thread.start()

    def maybe_flush(self) -> None:
        """Hand the batch to the writer thread when it is big or old enough."""
        if len(self.batch) >= self.batch_size or (
            time.monotonic() - self._last > self.interval and (len(self.batch) or self.finished)
        ):
            self.flush()

    def flush(self) -> None:
        """Hand the current batch to the writer thread now."""
        batch, finished = self.batch, self.finished
        self.batch, self.finished = batches.Batch(), []
        self._last = time.monotonic()
        if len(batch) or finished:
            self._queue.put((batch, finished))

    def pending(self) -> bool:
        """Whether rows are held here or in the writer thread and not committed yet."""
        return bool(len(self.batch) or self.finished or self._queue.unfinished_tasks)

    def close(self) -> None:
        """Commit everything left and wait until it is written."""
        self.flush()
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                self._queue.task_done()
                return
            try:
                self._write(*job)
            finally:
                self._queue.task_done()

    def _write(self, batch: batches.Batch, finished: list[dict]) -> None:
        """Commit one batch (or record why it could not be)."""
        self._drop_index_state(batch)
        finished = self._mark_partial(finished)
        try:
            if self.reconcile is None:
                batches.flush(self.path, batch, finished)
            else:
                batches.flush(self.path, batch, finished, reconcile=self.reconcile)
        except Exception as exc:  # keep crawling; the summary says the write failed
            self.failure = f"{type(exc).__name__}: {exc}"
            log.error("could not write a batch to %s: %s", self.path, self.failure)
            self._record_failure(batch, finished)

    def _drop_index_state(self, batch: batches.Batch) -> None:
        """Index validators of sources that lost rows never reach the warehouse."""
        for url, row in list(batch.state.items()):
            if row["kind"] == "index" and row["source"] in self.failed_sources:
                del batch.state[url]

    def _mark_partial(self, finished: list[dict]) -> list[dict]:
        """A run that lost rows to a failed write is partial, whatever its spider saw."""
        failed_runs = {self.run_ids.get(s) for s in self.failed_sources}
        return [{**r, "status": "partial" if r["status"] == "ok" else r["status"],
                 "errors": r["errors"] + 1} if r["run_id"] in failed_runs else r
                for r in finished]

    def _record_failure(self, batch: batches.Batch, finished: list[dict]) -> None:
        """Note which sources lost rows; record it and close their runs (a small write)."""
        lost: dict[str, int] = {}
        for row in batch.new + batch.updates + batch.carriers:
            lost[row["source"]] = lost.get(row["source"], 0) + 1
        for row in batch.state.values():
            lost.setdefault(row["source"], 0)
        for row in batch.errors:
            lost.setdefault(row["source"], 0)
        self.failed_sources.update(lost)
        runs = {**{r["source"]: r["run_id"] for r in batch.errors}, **self.run_ids}
        note = batches.Batch(errors=[
            {"run_id": runs.get(src), "source": src, "url": None,
             "reason": f"could not write {n} documents to the warehouse ({self.failure}); "
                       "they are fetched again next run"}
            for src, n in lost.items() if runs.get(src) is not None])
        closing = self._mark_partial(finished)
        try:
            batches.flush(self.path, note, closing)
        except Exception as exc:
            log.error("could not record the failed write either: %s", exc)
