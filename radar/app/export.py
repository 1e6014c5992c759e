"""`radar export`: every table to Parquet, for analysts using other tools.

Also the two radar views an analyst cannot easily rebuild from the tables:
`radar_latest` (the current radar) and `radar_history` (every period's radar,
with movement against the period before).
"""

from __future__ import annotations

from pathlib import Path

from radar.core import warehouse

VIEWS = ("radar_latest", "radar_history")


def export_parquet(path: Path, out_dir: Path) -> list[tuple[str, int, Path]]:
    """Write each warehouse table (and the radar views) to OUT_DIR/<name>.parquet;
    returns (name, rows, file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with warehouse.read(path) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                "AND NOT internal ORDER BY table_name"
            ).fetchall()
        ]
        tables += [r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' "
            "AND list_contains(?, view_name) ORDER BY view_name", [list(VIEWS)]).fetchall()]
        for table in tables:
            target = out_dir / f"{table}.parquet"
            # Table names come from the catalog, not from user input; paths are quoted.
            con.execute(
                f'COPY (SELECT * FROM "{table}") TO \'{_quote(target)}\' (FORMAT parquet)'
            )
            rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            written.append((table, rows, target))
    return written


def _quote(p: Path) -> str:
    return str(p).replace("'", "''")
