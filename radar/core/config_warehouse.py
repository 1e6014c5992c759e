"""The `[warehouse]` section of radar.toml: the DuckDB file, or DuckLake with a PostgreSQL catalog.

Kept apart from radar.core.config (which re-exports the class) to keep modules small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from radar.core import backends
from radar.core.backends import DEFAULT_PASSWORD_ENV, LakeSpec
from radar.core.errors import WarehouseError


@dataclass
class WarehouseConfig:
    """Where the warehouse lives (relative paths are relative to the config file).

    backend "duckdb": one DuckDB file at `path`. backend "ducklake": DuckLake with its
    catalog in PostgreSQL (`catalog = "postgres:dbname=... host=... port=... user=..."`,
    the password from the environment variable named by `password_env`) and its data
    files in the folder `data_path`; `path` then only names the lock and salt files.
    """

    path: str = "radar.duckdb"
    # The analysts' reader copy (<name>.read.duckdb) is published after commits at most this
    # often (seconds), and whenever a writing command ends; a negative value turns it off.
    reader_copy_every: float = 30.0
    backend: Literal["duckdb", "ducklake"] = "duckdb"
    catalog: str = ""
    data_path: str = "lake"
    password_env: str = DEFAULT_PASSWORD_ENV


def check_warehouse(w: WarehouseConfig) -> str | None:
    """What is wrong with the section, in words (None: nothing)."""
    if w.backend == "ducklake":
        try:
            backends.parse_catalog(w.catalog)
        except WarehouseError as exc:
            return f"warehouse.catalog: {exc}"
    return None


def lake_spec(w: WarehouseConfig, base_dir: Path) -> LakeSpec | None:
    """The DuckLake catalog and data folder, or None for the embedded DuckDB file."""
    if w.backend != "ducklake":
        return None
    data = Path(w.data_path).expanduser()
    data = data if data.is_absolute() else base_dir / data
    return LakeSpec(backends.parse_catalog(w.catalog), str(data), w.password_env)
