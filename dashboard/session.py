"""Per-session plumbing: the config, a cached reader and cached query results.

No connection is kept between reruns: each cached query opens a read connection
for one short batch (see dashboard.queries), so the pipeline can always write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import queries, queries_decisions, queries_history
from radar.core.config import Config, load_config, resolve_config_path
from radar.core.warehouse import WarehouseError, WarehouseMissing

log = logging.getLogger(__name__)


class Reader:
    """Runs named queries from dashboard.queries against one warehouse."""

    def __init__(self, config: Config):
        self.config = config
        self.path = str(config.warehouse_path)

    def run(self, name: str, *args: Any) -> Any:
        """Run `queries.<name>(path, *args)` (or queries_decisions' or queries_history's),
        cached for the configured TTL."""
        return _cached(self.config.dashboard.cache_ttl)(name, self.path, *args)


@st.cache_resource(show_spinner=False)
def _reader(config_path: str) -> Reader:
    return Reader(load_config(config_path))


@st.cache_resource(show_spinner=False)
def _cached(ttl: int) -> Callable[..., Any]:
    @st.cache_data(ttl=ttl, show_spinner=False, max_entries=500)
    def run(name: str, path: str, *args: Any) -> Any:
        module = next((m for m in (queries_decisions, queries_history) if name in m.__all__),
                      queries)
        return getattr(module, name)(path, *args)

    return run


def config_path() -> str:
    """The config the dashboard was started with ($RADAR_CONFIG or ./radar.toml)."""
    return str(Path(resolve_config_path()).resolve())


def reader() -> Reader:
    """The reader for this app's config (shared by all sessions)."""
    return _reader(config_path())


def refresh() -> None:
    """Drop cached query results so the next read shows the newest data."""
    _cached.clear()
    st.cache_data.clear()


def load(name: str, *args: Any) -> Any:
    """A cached query result, or a friendly stop when the warehouse cannot be read."""
    start = time.perf_counter()
    try:
        return reader().run(name, *args)
    except WarehouseMissing:
        st.info("There is no warehouse yet. Create one with `radar init`, add sources to "
                "radar.toml, then run `radar crawl` and `radar analyze`.")
        st.stop()
    except WarehouseError as exc:
        st.warning(f"The warehouse is busy or unreadable right now: {exc}. "
                   "This page will work again once the current write finishes; reload it.")
        st.stop()
    finally:
        log.debug("query %s: %.0f ms", name, 1000 * (time.perf_counter() - start))


def summary() -> dict:
    """What the warehouse holds (cached)."""
    return load("summary")


def require_signals(info: dict) -> bool:
    """Explain what to do next when there are no topics or signals; True if there are."""
    if info["documents"] == 0:
        st.info("The warehouse has no documents yet. Add sources to radar.toml and run "
                "`radar crawl` (or load a file with `radar import FILE`), then `radar analyze`.")
        return False
    if info["topics"] == 0:
        st.info(f"{info['documents']:,} documents are in the warehouse but no topics yet. "
                "Run `radar analyze` to find topics and score the radar.")
        return False
    if info["signals"] == 0:
        st.info(f"{info['topics']:,} topics found but not scored yet. Run `radar analyze` "
                "(it scores the radar after finding topics).")
        return False
    return True
