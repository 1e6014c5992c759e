-- Scoring stage: the weak-signal tier's term counts, kept between runs (performance issue
-- #17: every scoring run split, paired and counted the terms of every passage; at 100,000
-- passages 8 s of a 26 s incremental analyze). A run now counts only the passages whose
-- period, source or terms changed since the counts were made (radar/core/cells.py,
-- radar/scoring/term_cells.py).
CREATE TABLE term_cells (
    period_start  DATE NOT NULL,             -- the period, at the grain of term_cells_state
    source        VARCHAR NOT NULL,          -- the passages' source ('' when none)
    h             UBIGINT NOT NULL,          -- hash(term) of a lemma or a bigram of lemmas
    passages      INTEGER NOT NULL           -- signed: rows of a cell add up (appended, compacted)
);
CREATE TABLE term_ledger (
    passage_id    VARCHAR NOT NULL,          -- unique (written by the refresh)
    period_start  DATE NOT NULL,             -- where the passage was counted
    source        VARCHAR NOT NULL,
    terms_hash    UBIGINT NOT NULL,          -- hash(passages.terms) when counted
    terms         VARCHAR NOT NULL           -- the terms counted (to take them off again)
);
CREATE TABLE term_cells_state (
    signature     VARCHAR NOT NULL,          -- what the cells were counted with (period grain, term rule)
    compacted     BIGINT NOT NULL            -- term_cells rows at the last compaction
);
