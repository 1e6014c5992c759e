"""Counts of passages' terms kept between runs: additive cells, a ledger of what they count.

Scoring's term tests count, per group of passages (a period and source) and term, the
passages carrying the term. Counting splits every passage's lemmas into terms: work that
grows with the corpus at every run.
The counts add up over passages, so a stage keeps them (`Cells`: its own three tables)
and a run counts only what changed:

- the ledger lists the passages the cells hold, with the group and terms they were counted
  under (the terms themselves, so a passage deleted or re-split since can be taken off);
- the passages now (the stage's `current` query) are compared with the ledger: a passage
  new, gone, or whose group or terms changed is counted in a signed delta (+1 for what it
  is now, -1 for what the ledger holds);
- a reader (read-only is enough) adds the delta to the stored cells (`delta`, `cells_sql`);
  `refresh` appends it to them and updates the ledger, so the next run's delta is empty.
  Cells are appended, not updated in place (DuckDB would rewrite every row group a
  scattered update touches), and rewritten grouped once they hold COMPACT_FACTOR times the
  rows of the last rewrite. When more than half the passages changed (a refit moves every
  passage to another topic), everything is counted again instead.

The state table holds the signature the cells were counted with (the stage's grain, term
rule, stop words); another signature counts everything again. Terms are hashed: two terms
of a million share a 64-bit hash with odds of about 3e-8 and would be counted as one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Cells are rewritten grouped once they hold this many times the rows of the last rewrite.
COMPACT_FACTOR = 1.5

# A delta of more than this share of the passages is counted afresh instead.
RECOUNT_SHARE = 0.5


@dataclass(frozen=True)
class Cells:
    """One stage's kept counts: its tables, the group columns of a cell and a ledger row,
    the summed columns of a cell, and how a passage's terms become cells.

    `pairs(rows)`: SQL of the cells of `rows` (a query of the group columns, `terms` and
    `sign`): the group columns, `h` (hash of a term) and the value columns, one row per
    passage and distinct term, signed."""

    cells: str
    ledger: str
    state: str
    groups: tuple[tuple[str, str], ...]   # (column, DuckDB type) of a cell's group
    values: tuple[str, ...]
    pairs: Callable[[str], str]

    @property
    def group_columns(self) -> str:
        return ", ".join(name for name, _ in self.groups)

    def temp(self, what: str) -> str:
        return f"{self.cells}_{what}"


def usable(con, spec: Cells, signature: str | None) -> bool:
    """Whether the stored cells were counted with `signature` (None: none are to be used)."""
    if signature is None:
        return False
    rows = con.execute(f"SELECT signature FROM {spec.state}").fetchall()
    return rows == [(signature,)]


def delta(con, spec: Cells, signature: str | None, current: str) -> bool:
    """Temporary tables of what changed since the stored cells, for the passages of the
    query `current` (passage_id, the group columns, terms_hash = hash(passages.terms)):
    `<cells>_added` and `<cells>_gone` (ledger rows), `<cells>_delta` (signed cells).
    Returns whether the stored cells are to be added to the delta (False: they were
    counted differently, or `signature` is None; the delta is everything)."""
    keep = usable(con, spec, signature)
    added, gone = spec.temp("added"), spec.temp("gone")
    same = " AND ".join(f"l.{c} = c.{c}" for c in ("passage_id", *_names(spec), "terms_hash"))
    if keep:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {added} AS SELECT c.* FROM ({current}) c "
                    f"ANTI JOIN {spec.ledger} l ON {same}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {gone} AS SELECT l.* FROM {spec.ledger} l "
                    f"ANTI JOIN ({current}) c ON {same}")
        changed = con.execute(f"SELECT (SELECT count(*) FROM {added}) + (SELECT count(*) FROM {gone}), "
                              f"(SELECT count(*) FROM {spec.ledger})").fetchone()
        keep = changed[0] <= RECOUNT_SHARE * max(changed[1], 1)
    if not keep:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {added} AS {current}")
        columns = ", ".join(f"{n} {t}" for n, t in spec.groups)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {gone} (passage_id VARCHAR, {columns}, "
                    "terms_hash UBIGINT, terms VARCHAR)")
    groups = spec.group_columns
    rows = f"""
        SELECT {", ".join(f"a.{c}" for c in _names(spec))}, coalesce(ps.terms, '') AS terms, 1 AS sign
        FROM {added} a JOIN passages ps USING (passage_id)
        UNION ALL
        SELECT {groups}, terms, -1 AS sign FROM {gone}"""
    if keep:  # a few passages: their cells grouped, what cancels out left out
        sums = ", ".join(f"sum({v})::INTEGER AS {v}" for v in spec.values)
        select = (f"SELECT {groups}, h, {sums} FROM ({spec.pairs(rows)}) GROUP BY ALL "
                  f"HAVING {' OR '.join(f'sum({v}) <> 0' for v in spec.values)}")
    else:  # every passage: a row per passage and term (a grouping here needs memory at 1M
        # passages; readers group the cells anyway, and compaction groups them later)
        select = f"SELECT {groups}, h, {', '.join(spec.values)} FROM ({spec.pairs(rows)})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.temp('delta')} AS {select}")
    return keep


def cells_sql(spec: Cells, keep: bool) -> str:
    """The cells of the passages now (after `delta`), not yet grouped: the stored ones (when
    `keep`) and the delta."""
    columns = f"{spec.group_columns}, h, {', '.join(spec.values)}"
    delta_rows = f"SELECT {columns} FROM {spec.temp('delta')}"
    return f"SELECT {columns} FROM {spec.cells} UNION ALL {delta_rows}" if keep else delta_rows


def drop_temp(con, spec: Cells) -> None:
    for what in ("added", "gone", "delta", "fixed"):
        con.execute(f"DROP TABLE IF EXISTS {spec.temp(what)}")


def refresh(con, spec: Cells, signature: str, current: str) -> dict:
    """Bring the stored cells and ledger up to the passages of `current` (a write
    connection). Returns what it did: passages counted in and out, cells appended, whether
    it counted everything and whether it compacted."""
    # No try/finally: on an error the caller's transaction rolls back, temporary tables
    # included (dropping them in an aborted transaction would hide the error).
    keep = delta(con, spec, signature, current)
    if not keep:
        con.execute(f"DELETE FROM {spec.cells}")
        con.execute(f"DELETE FROM {spec.ledger}")
    added, gone, cells = (con.execute(f"SELECT count(*) FROM {spec.temp(t)}").fetchone()[0]
                          for t in ("added", "gone", "delta"))
    con.execute(f"INSERT INTO {spec.cells} BY NAME SELECT * FROM {spec.temp('delta')}")
    if gone:
        con.execute(f"DELETE FROM {spec.ledger} WHERE passage_id IN "
                    f"(SELECT passage_id FROM {spec.temp('gone')})")
    if added:
        con.execute(f"""
            INSERT INTO {spec.ledger} BY NAME
            SELECT a.*, coalesce(ps.terms, '') AS terms
            FROM {spec.temp('added')} a JOIN passages ps USING (passage_id)""")
    compacted = _compact(con, spec, signature, keep)
    drop_temp(con, spec)
    return {"added": added, "gone": gone, "cells": cells, "recounted": not keep,
            "compacted": compacted}


def forget(con, spec: Cells, passage_ids: str, params=()) -> int:
    """Take the passages of the query `passage_ids` off the stored counts at once, in the
    caller's transaction, leaving no row of theirs: their ledger rows go, and every cell
    they were counted in is rewritten as one row (or none), so no +1/-1 pair keeps their
    terms until the next compaction. For an erasure: the ledger holds the terms it
    counted. Returns the passages taken off."""
    gone, fixed, dlt = spec.temp("gone"), spec.temp("fixed"), spec.temp("delta")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {gone} AS SELECT * FROM {spec.ledger} "
                f"WHERE passage_id IN ({passage_ids})", list(params))
    n = con.execute(f"SELECT count(*) FROM {gone}").fetchone()[0]
    if not n:
        drop_temp(con, spec)
        return 0
    groups, key = spec.group_columns, (*_names(spec), "h")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {dlt} AS
        SELECT DISTINCT {groups}, h
        FROM ({spec.pairs(f"SELECT {groups}, terms, -1 AS sign FROM {gone}")})""")
    columns = f"{groups}, h, {', '.join(spec.values)}"
    sums = ", ".join(f"sum({v})::INTEGER AS {v}" for v in spec.values)
    on = " AND ".join(f"d.{c} = {spec.cells}.{c}" for c in key)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {fixed} AS
        SELECT {groups}, h, {sums}
        FROM (SELECT {columns} FROM {spec.cells} SEMI JOIN {dlt} USING ({", ".join(key)})
              UNION ALL SELECT {columns} FROM ({spec.pairs(
                  f"SELECT {groups}, terms, -1 AS sign FROM {gone}")}))
        GROUP BY ALL HAVING {" OR ".join(f"sum({v}) <> 0" for v in spec.values)}""")
    con.execute(f"DELETE FROM {spec.cells} WHERE EXISTS (SELECT 1 FROM {dlt} d WHERE {on})")
    con.execute(f"INSERT INTO {spec.cells} BY NAME SELECT * FROM {fixed}")
    con.execute(f"DELETE FROM {spec.ledger} WHERE passage_id IN (SELECT passage_id FROM {gone})")
    drop_temp(con, spec)
    return n


def _names(spec: Cells) -> list[str]:
    return [name for name, _ in spec.groups]


def _compact(con, spec: Cells, signature: str, keep: bool) -> bool:
    """Rewrite the cells grouped when they have grown COMPACT_FACTOR times since the last
    rewrite (or were counted anew); record the state. Returns whether it rewrote them."""
    rows = con.execute(f"SELECT count(*) FROM {spec.cells}").fetchone()[0]
    last = con.execute(f"SELECT compacted FROM {spec.state}").fetchone() if keep else None
    if last is not None and rows <= COMPACT_FACTOR * max(last[0], 1):
        return False
    rewrite = last is not None
    if rewrite:
        fixed = spec.temp("fixed")
        sums = ", ".join(f"sum({v})::INTEGER AS {v}" for v in spec.values)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {fixed} AS
            SELECT {spec.group_columns}, h, {sums} FROM {spec.cells} GROUP BY ALL
            HAVING {" OR ".join(f"sum({v}) <> 0" for v in spec.values)}""")
        con.execute(f"DELETE FROM {spec.cells}")
        con.execute(f"INSERT INTO {spec.cells} BY NAME SELECT * FROM {fixed}")
        rows = con.execute(f"SELECT count(*) FROM {spec.cells}").fetchone()[0]
    con.execute(f"DELETE FROM {spec.state}")
    con.execute(f"INSERT INTO {spec.state} (signature, compacted) VALUES (?, ?)", [signature, rows])
    return rewrite
