"""One background writer per crawl process: batches from every source, off the reactor.

Opening the warehouse, writing and checkpointing takes tens of milliseconds per
transaction; done in the reactor thread, per source, it stalls every download.
So the pipelines of all sources append rows to one shared batch, and a writer
thread commits it (one transaction through `radar.core.warehouse.write`) whenever it
holds `batch_size` rows or `interval` seconds have passed. Closing the writer
commits what is left and waits for it.
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

    def __init__(self, path: Path, batch_size: int = 200, interval: float = 5.0) -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.batch = batches.Batch()
        self.finished: list[dict] = []          # crawl_runs rows to close in the next batch
        self.failure: str = ""                  # the last write error, if any
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

    def close(self) -> None:
        """Commit everything left and wait until it is written."""
        self.flush()
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch, finished = job
            try:
                batches.flush(self.path, batch, finished)
            except Exception as exc:  # keep crawling; the summary says the write failed
                self.failure = f"{type(exc).__name__}: {exc}"
                log.error("could not write a batch to %s: %s", self.path, self.failure)
