"""SQL for the radar's history: each period's radar and what changed between periods.

Like dashboard.queries: parameterised, read-only, one short read each, through
`radar.core.warehouse.read`. Reads the `radar_history` view (0009_radar_history.sql):
every period's radar from the newest complete run that stored it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from radar.core import warehouse

__all__ = ["history_periods", "movement_counts", "period_radar"]


def history_periods(path: str) -> list[date]:
    """Every scored period, newest first."""
    with warehouse.read(path) as con:
        if not warehouse.table_exists(con, "radar_history"):
            return []
        return [r[0] for r in con.execute(
            "SELECT DISTINCT period_start FROM radar_history ORDER BY 1 DESC").fetchall()]


def period_radar(path: str, period: date) -> pd.DataFrame:
    """One period's radar: topics on it and those that left it that period (ring NULL)."""
    with warehouse.read(path) as con:
        return con.execute("""
            SELECT topic_id, label, service_area, ring, stage, score, volume, sources,
                   movement, previous_ring, reasons, period_start
            FROM radar_history WHERE period_start = ?
            ORDER BY array_position(['Act','Prepare','Watch','Monitor'], ring) NULLS LAST,
                     score DESC""", [period]).df()


def movement_counts(path: str) -> pd.DataFrame:
    """Per period: topics on the radar and how many were new, back, moved in/out or left."""
    with warehouse.read(path) as con:
        return con.execute("""
            SELECT period_start,
                   count(*) FILTER (WHERE ring IS NOT NULL) AS on_radar,
                   count(*) FILTER (WHERE movement = 'new') AS new,
                   count(*) FILTER (WHERE movement = 'back') AS back,
                   count(*) FILTER (WHERE movement = 'moved in') AS moved_in,
                   count(*) FILTER (WHERE movement = 'moved out') AS moved_out,
                   count(*) FILTER (WHERE movement = 'left') AS "left"
            FROM radar_history GROUP BY period_start ORDER BY period_start DESC""").df()
