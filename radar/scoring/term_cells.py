"""The weak-signal tier's term counts, kept between runs (tables `term_cells`, `term_ledger`,
`term_cells_state`; migration 0018).

Scoring needs, per period and term, how many passages carry the term and from how many
distinct sources (radar/scoring/term_inputs.py). Counting them means splitting every
passage's lemmas into terms and bigrams, hashing and grouping them: O(corpus) at every run
(8 s of a 26 s incremental analyze at 100,000 passages). The counts are additive, so they
are kept as cells (period, source, term hash) -> passages, and a run counts only what
changed:

- `term_ledger` says which passages the cells hold, with the period, source and terms they
  were counted under (the terms themselves, so a passage deleted or re-split since can be
  taken off again);
- the passages scored now (`scoring_passages`) are compared with the ledger: a passage new,
  gone, or whose period, source or terms changed is counted in a signed delta (+1 for what it
  is now, -1 for what the ledger holds);
- a reader (read-only is enough) adds the delta to the stored cells; `refresh` appends it
  to them and updates the ledger, so the next run's delta is empty. Cells are appended, not
  updated in place (DuckDB would rewrite every row group a scattered update touches), and
  rewritten grouped once they hold COMPACT_FACTOR times the rows of the last compaction.

`term_cells_state` holds the period grain and the term rule the cells were counted with;
a change of either counts everything again. Counts are of hashes, as before: two terms of
a million share a 64-bit hash with odds of about 3e-8.
"""

from __future__ import annotations

# Version of the term rule (`pairs_sql`): bump it when the rule changes, so stored cells
# are counted again.
RULE = 1

# Cells are rewritten grouped once they hold this many times the rows of the last rewrite.
COMPACT_FACTOR = 1.5

# The scored passages now: where and what they would be counted as. Needs the temporary
# view `scoring_passages` (radar/scoring/inputs.py).
_CURRENT = """
    SELECT sp.passage_id, sp.period_start, coalesce(d.source, '') AS source,
           hash(coalesce(ps.terms, '')) AS terms_hash
    FROM scoring_passages sp JOIN passages ps ON ps.passage_id = sp.passage_id
    JOIN documents d ON d.doc_id = sp.doc_id"""

_SAME = ("l.passage_id = c.passage_id AND l.period_start = c.period_start "
         "AND l.source = c.source AND l.terms_hash = c.terms_hash")

_TEMP = ("tc_added", "tc_gone", "tc_delta")


def pairs_sql(rows: str) -> str:
    """(period_start, source, h, sign) of each distinct term of each passage in `rows`
    (a query of period_start, source, terms, sign): its lemmas (`terms` split on spaces) and
    the bigrams of neighbouring lemmas."""
    return f"""
        SELECT period_start, source, sign, hash(unnest(list_distinct(list_concat(w,
                   list_transform(range(1, len(w)), i -> w[i] || ' ' || w[i + 1]))))) AS h
        FROM (SELECT period_start, source, sign,
                     list_filter(string_split(terms, ' '), x -> x <> '') AS w FROM ({rows}))"""


def stored_usable(con, period: str | None) -> bool:
    """Whether the stored cells were counted by `period` with this term rule (None: none
    are to be used)."""
    if period is None:
        return False
    row = con.execute("SELECT period, rule FROM term_cells_state").fetchall()
    return row == [(period, RULE)]


def delta(con, period: str | None) -> bool:
    """Temporary tables of what changed since the stored cells (`tc_added`, `tc_gone`:
    ledger rows; `tc_delta`: signed cells). Returns whether the stored cells are to be
    added to the delta (False: they were counted differently, or `period` is None; the
    delta is everything)."""
    usable = stored_usable(con, period)
    if usable:
        con.execute(f"CREATE OR REPLACE TEMP TABLE tc_added AS SELECT c.* FROM ({_CURRENT}) c "
                    f"ANTI JOIN term_ledger l ON {_SAME}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE tc_gone AS SELECT l.* FROM term_ledger l "
                    f"ANTI JOIN ({_CURRENT}) c ON {_SAME}")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE tc_added AS {_CURRENT}")
        con.execute("CREATE OR REPLACE TEMP TABLE tc_gone (passage_id VARCHAR, period_start DATE, "
                    "source VARCHAR, terms_hash UBIGINT, terms VARCHAR)")
    rows = """
        SELECT a.period_start, a.source, coalesce(ps.terms, '') AS terms, 1 AS sign
        FROM tc_added a JOIN passages ps USING (passage_id)
        UNION ALL
        SELECT period_start, source, terms, -1 AS sign FROM tc_gone"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tc_delta AS
        SELECT period_start, source, h, sum(sign)::INTEGER AS passages
        FROM ({pairs_sql(rows)}) GROUP BY ALL HAVING sum(sign) <> 0""")
    return usable


def cells_sql(usable: bool) -> str:
    """The cells of the passages scored now (after `delta`), not yet grouped: the stored
    ones and the delta."""
    if usable:
        return ("SELECT period_start, source, h, passages FROM term_cells "
                "UNION ALL SELECT period_start, source, h, passages FROM tc_delta")
    return "SELECT period_start, source, h, passages FROM tc_delta"


def drop_temp(con) -> None:
    for table in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def refresh(con, period: str) -> dict:
    """Bring the stored cells and ledger up to the passages scored now (a write connection
    with the `scoring_passages` view). Returns what it did: passages counted in and out,
    cells appended, whether it counted everything and whether it compacted."""
    try:
        usable = delta(con, period)
        if not usable:
            con.execute("DELETE FROM term_cells")
            con.execute("DELETE FROM term_ledger")
        added, gone = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in ("tc_added", "tc_gone"))
        cells = con.execute("SELECT count(*) FROM tc_delta").fetchone()[0]
        con.execute("INSERT INTO term_cells SELECT period_start, source, h, passages FROM tc_delta")
        if gone:
            con.execute("DELETE FROM term_ledger WHERE passage_id IN (SELECT passage_id FROM tc_gone)")
        if added:
            con.execute("""
                INSERT INTO term_ledger
                SELECT a.passage_id, a.period_start, a.source, a.terms_hash, coalesce(ps.terms, '')
                FROM tc_added a JOIN passages ps USING (passage_id)""")
        compacted = _compact(con, period, usable)
        return {"added": added, "gone": gone, "cells": cells, "recounted": not usable,
                "compacted": compacted}
    finally:
        drop_temp(con)


def forget(con, passage_ids: str, params=()) -> int:
    """Take the passages of the query `passage_ids` off the stored counts at once, in the
    caller's transaction, leaving no row of theirs: their ledger rows go, and every cell
    they were counted in is rewritten as one row (or none), so no +1/-1 pair keeps their
    terms until the next compaction. For an erasure (radar/app/erasure.py): the ledger
    holds the terms it counted. Returns the passages taken off."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE tc_gone AS SELECT * FROM term_ledger "
                f"WHERE passage_id IN ({passage_ids})", list(params))
    try:
        gone = con.execute("SELECT count(*) FROM tc_gone").fetchone()[0]
        if not gone:
            return 0
        rows = "SELECT period_start, source, terms, -1 AS sign FROM tc_gone"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE tc_delta AS
            SELECT period_start, source, h, sum(sign)::INTEGER AS passages
            FROM ({pairs_sql(rows)}) GROUP BY ALL""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE tc_added AS
            SELECT period_start, source, h, sum(passages)::INTEGER AS passages
            FROM (SELECT c.* FROM term_cells c SEMI JOIN tc_delta USING (period_start, source, h)
                  UNION ALL SELECT * FROM tc_delta)
            GROUP BY ALL HAVING sum(passages) <> 0""")
        con.execute("DELETE FROM term_cells c USING tc_delta d WHERE c.period_start = d.period_start "
                    "AND c.source = d.source AND c.h = d.h")
        con.execute("INSERT INTO term_cells SELECT * FROM tc_added")
        con.execute("DELETE FROM term_ledger WHERE passage_id IN (SELECT passage_id FROM tc_gone)")
        return gone
    finally:
        drop_temp(con)


def _compact(con, period: str, usable: bool) -> bool:
    """Rewrite the cells grouped when they have grown COMPACT_FACTOR times since the last
    rewrite (or were counted anew); record the state. Returns whether it rewrote them."""
    rows = con.execute("SELECT count(*) FROM term_cells").fetchone()[0]
    last = con.execute("SELECT compacted FROM term_cells_state").fetchone() if usable else None
    if last is not None and rows <= COMPACT_FACTOR * max(last[0], 1):
        return False
    rewrite = last is not None
    if rewrite:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE tc_compact AS
            SELECT period_start, source, h, sum(passages)::INTEGER AS passages
            FROM term_cells GROUP BY ALL HAVING sum(passages) <> 0""")
        try:
            con.execute("DELETE FROM term_cells")
            con.execute("INSERT INTO term_cells SELECT * FROM tc_compact")
        finally:
            con.execute("DROP TABLE IF EXISTS tc_compact")
        rows = con.execute("SELECT count(*) FROM term_cells").fetchone()[0]
    con.execute("DELETE FROM term_cells_state")
    con.execute("INSERT INTO term_cells_state VALUES (?, ?, ?)", [period, RULE, rows])
    return rewrite
