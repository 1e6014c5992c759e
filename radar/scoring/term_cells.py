"""The weak-signal tier's term counts, kept between runs (tables `term_cells`, `term_ledger`,
`term_cells_state`; migration 0018; the mechanism is radar/core/cells.py).

Scoring needs, per period and term, how many passages carry the term and from how many
distinct sources (radar/scoring/term_inputs.py). The cells here are (period, source, term
hash) -> passages, for the scored passages (`scoring_passages`): a run counts only the
passages new, gone or changed (period, source or terms) since they were stored; another
period grain or term rule counts everything again.
"""

from __future__ import annotations

from radar.core import cells

# Version of the term rule (`pairs_sql`): bump it when the rule changes, so stored cells
# are counted again.
RULE = 1

# The scored passages now: where and what they are counted as. Needs the temporary view
# `scoring_passages` (radar/scoring/inputs.py).
_CURRENT = """
    SELECT sp.passage_id, sp.period_start, coalesce(d.source, '') AS source,
           hash(coalesce(ps.terms, '')) AS terms_hash
    FROM scoring_passages sp JOIN passages ps ON ps.passage_id = sp.passage_id
    JOIN documents d ON d.doc_id = sp.doc_id"""


def pairs_sql(rows: str) -> str:
    """(period_start, source, h, passages = sign) of each distinct term of each passage in
    `rows` (a query of period_start, source, terms, sign): its lemmas (`terms` split on
    spaces) and the bigrams of neighbouring lemmas."""
    return f"""
        SELECT period_start, source, sign AS passages,
               hash(unnest(list_distinct(list_concat(w, list_transform(
                   range(1, len(w)), i -> w[i] || ' ' || w[i + 1]))))) AS h
        FROM (SELECT period_start, source, sign,
                     list_filter(string_split(terms, ' '), x -> x <> '') AS w FROM ({rows}))"""


SPEC = cells.Cells("term_cells", "term_ledger", "term_cells_state",
                   (("period_start", "DATE"), ("source", "VARCHAR")), ("passages",), pairs_sql)


def signature(period: str | None) -> str | None:
    """What stored cells must have been counted with to be used for `period`."""
    return None if period is None else f"period={period};rule={RULE}"


def stored_usable(con, period: str | None) -> bool:
    """Whether the stored cells were counted by `period` with this term rule."""
    return cells.usable(con, SPEC, signature(period))


def delta(con, period: str | None) -> bool:
    """Temporary tables of what changed since the stored cells (`cells.delta`); whether the
    stored cells are to be added to it."""
    return cells.delta(con, SPEC, signature(period), _CURRENT)


def cells_sql(keep: bool) -> str:
    """The cells of the scored passages (after `delta`): period_start, source, h, passages."""
    return cells.cells_sql(SPEC, keep)


def drop_temp(con) -> None:
    cells.drop_temp(con, SPEC)


def refresh(con, period: str) -> dict:
    """Bring the stored cells up to the scored passages (a write connection with the
    `scoring_passages` view); see `cells.refresh`."""
    return cells.refresh(con, SPEC, signature(period), _CURRENT)


def forget(con, passage_ids: str, params=()) -> int:
    """Take passages off the stored counts at once, leaving no row of theirs (an erasure)."""
    return cells.forget(con, SPEC, passage_ids, params)
