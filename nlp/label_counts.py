"""Topic terms counted in the warehouse: what `nlp.terms.topic_terms` computes, in bounded memory.

`count_topic_terms` is what a label refresh calls: a small corpus is counted in memory
(`topic_terms`, faster there), a large one in the warehouse.

`topic_terms` counts every passage's terms in Python (a passages x terms matrix, the
one-voice test's (topic, term, voice) keys): a label refresh over a million passages held
9.8 GB and took two minutes (bench/label_refresh.py), and every `radar analyze` refreshes
the labels. Here DuckDB does the counting: it tokenises each passage's lemmas by the same
rule (runs of two or more word characters, lower case, stop words removed, bigrams of
neighbouring words), hashes every term to 64 bits and groups integers, which it spills to
disk beyond `label_memory` (a base and a little per passage). Python receives, per
topic, the candidates for its top terms only, and names only them and the corpus-wide
common terms.

Same definitions as nlp/terms.py, checked against it on real comments
(tests/test_nlp_label_counts.py): c-TF-IDF weights over the topics and the outlier class,
terms in at least `min_df` passages (2 from 200 passages), common terms (in every period,
spread over the topics at least COMMON_SPREAD as evenly as the passages), one-voice terms
ranked after shared ones, ties broken by code point. Two terms of a million share a hash
with odds of about 3e-8; they would be counted as one.
"""

from __future__ import annotations

import math

import pyarrow as pa

from nlp.terms import COMMON_SPREAD, MAX_VOICE_SHARE, _leans_on_common, dedupe_terms, topic_terms
from radar.core.periods import period_start_sql
from radar.core.warehouse import within_memory

# DuckDB groups the term pairs within a base and a little per passage and spills the rest
# to disk (bench/label_refresh.py: 100k passages within 126 MB, 1M within 356 MB; 1M ran out
# of memory within 250 MB on two threads; `warehouse.within_memory` then tries with more).
LABEL_MEMORY_BASE = 100 * 10**6  # bytes
LABEL_MEMORY_PER_PASSAGE = 256  # bytes


def label_memory(passages: int) -> int:
    """DuckDB's memory limit for counting the terms of `passages` assigned passages (bytes)."""
    return LABEL_MEMORY_BASE + LABEL_MEMORY_PER_PASSAGE * passages

# Below this many assigned passages the terms are counted in memory (`topic_terms`): about
# 12 KB a passage (240 MB here), and faster than DuckDB's passes on a small corpus (the dev
# corpus's 6,234 passages: 0.5 s against 0.6-0.9 s); above, in the warehouse.
IN_MEMORY_PASSAGES = 20_000

# Candidates fetched per topic before the terms leaning on a common word are dropped;
# four times as many for the topics that need more.
FIRST_CANDIDATES = 100

# The same tokens as nlp.terms._TOKEN (`\b\w\w+\b`, Unicode word characters).
_WORDS = r"[\p{L}\p{N}_]{2,}"

# Who says a passage (the one-voice rule): a citizen post's author, else its source.
_VOICE = ("CASE WHEN d.channel = 'citizen' AND d.author_hash IS NOT NULL "
          "THEN 'author:' || d.author_hash ELSE 'source:' || d.source END")

_TABLES = ("lbl_rows", "lbl_pairs", "lbl_vocab", "lbl_tc", "lbl_weights", "lbl_need")


def count_topic_terms(con, period: str, stop_words=()) -> tuple[dict[int, list[str]], dict[str, float]]:
    """(top terms of every topic holding passages, learned common terms -> spread) of the
    warehouse open on `con`: in memory for a small corpus, in the warehouse for a large one
    (the same result either way)."""
    n = con.execute("SELECT count(*) FROM passage_topics").fetchone()[0]
    if n < IN_MEMORY_PASSAGES:
        return topic_terms_in_memory(con, period, stop_words)
    return topic_terms_in_warehouse(con, period, stop_words, passages=n)


def topic_terms_in_memory(con, period: str, stop_words=()) -> tuple[dict[int, list[str]], dict[str, float]]:
    """`count_topic_terms` by `nlp.terms.topic_terms` over every assigned passage's terms."""
    import numpy as np

    tbl = con.execute(
        "SELECT coalesce(p.terms, '') AS terms, coalesce(pt.topic_id, -1) AS topic, "
        f"CAST({period_start_sql(period)} AS VARCHAR) AS period, "
        f"{_VOICE} AS voice "
        "FROM passages p JOIN passage_topics pt USING (passage_id) "
        "JOIN documents d USING (doc_id) ORDER BY p.passage_id").to_arrow_table()
    learned: dict[str, float] = {}
    terms = topic_terms(tbl["terms"].to_pylist(), tbl["topic"].to_numpy(), stop_words=stop_words,
                        periods=np.array(tbl["period"].to_pylist(), dtype=object),
                        learned=learned, voices=np.array(tbl["voice"].to_pylist(), dtype=object))
    return terms, learned


def topic_terms_in_warehouse(con, period: str, stop_words=(), n_terms: int = 10,
                             passages: int | None = None
                             ) -> tuple[dict[int, list[str]], dict[str, float]]:
    """(top terms of every topic holding passages, learned common terms -> spread), as
    `topic_terms(docs, labels, stop_words=, periods=, voices=, learned=)` gives them for
    the assigned passages of the warehouse open on `con` (read-only is enough).
    `passages`: how many are assigned, when the caller has counted them."""
    if passages is None:
        passages = con.execute("SELECT count(*) FROM passage_topics").fetchone()[0]

    def count():
        try:
            return _topic_terms(con, period, list(stop_words), n_terms)
        finally:
            for table in _TABLES:
                con.execute(f"DROP TABLE IF EXISTS {table}")

    return within_memory(con, label_memory(passages), count, "counting the topic terms")


def _topic_terms(con, period: str, stop_words: list[str], n_terms: int):
    n, topics = _pairs(con, period, stop_words)
    if topics == 0:
        return {}, {}
    min_df = 2 if n >= 200 else 1
    con.execute(f"CREATE TEMP TABLE lbl_vocab AS SELECT h FROM lbl_pairs GROUP BY h "
                f"HAVING count(*) >= {min_df}")
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT topic FROM lbl_rows WHERE topic >= 0 ORDER BY 1").fetchall()]
    if con.execute("SELECT count(*) FROM lbl_vocab").fetchone()[0] == 0:
        return {t: [] for t in ids}, {}
    # Per class and kept term: occurrences (c-TF-IDF), passages (common terms) and the
    # passages of its largest voice (one-voice terms).
    con.execute("""
        CREATE TEMP TABLE lbl_tc AS
        SELECT topic, h, sum(n) AS occ, sum(m) AS m, max(m) AS top
        FROM (SELECT topic, h, vc, sum(n) AS n, count(*) AS m
              FROM lbl_pairs SEMI JOIN lbl_vocab USING (h) GROUP BY ALL)
        GROUP BY ALL""")
    common = _common(con)
    _weights(con, topics + 1)
    return _top_terms(con, ids, common, n_terms, stop_words)


def _words_sql(stop_words: list[str]) -> str:
    """A passage's words (`p.terms`): runs of two or more word characters, lower case, stop
    words removed."""
    words = f"regexp_extract_all(lower(coalesce(p.terms, '')), '{_WORDS}')"
    if stop_words:
        listed = ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(set(stop_words)))
        words = f"list_filter({words}, x -> NOT list_contains([{listed}], x))"
    return words


def _terms_sql(stop_words: list[str]) -> str:
    """A passage's terms (`p.terms`): its words (runs of two or more word characters, lower
    case, stop words removed) with repeats, then the bigrams of neighbouring words."""
    words = _words_sql(stop_words)
    return (f"(SELECT list_concat(w, list_transform(range(1, len(w)), "
            f"i -> w[i] || ' ' || w[i + 1])) FROM (SELECT {words} AS w))")


def _hashed_terms_sql(stop_words: list[str]) -> str:
    """`_terms_sql`'s terms as their hashes, each hashed as it is made (no list of strings)."""
    words = _words_sql(stop_words)
    return (f"(SELECT list_concat(list_transform(w, x -> hash(x)), list_transform(range(1, len(w)), "
            f"i -> hash(w[i] || ' ' || w[i + 1]))) FROM (SELECT {words} AS w))")


def _pairs(con, period: str, stop_words: list[str]) -> tuple[int, int]:
    """lbl_rows: each assigned passage's row, class (its topic; -1 for outliers), period and
    voice codes; lbl_pairs: its distinct terms' hashes with their occurrences. Returns
    (passages, topics)."""
    con.execute(f"""
        CREATE TEMP TABLE lbl_rows AS
        SELECT (row_number() OVER (ORDER BY passage_id))::INTEGER AS row, passage_id, topic,
               dense_rank() OVER (ORDER BY period)::INTEGER AS pc,
               dense_rank() OVER (ORDER BY voice)::INTEGER AS vc
        FROM (SELECT p.passage_id, CASE WHEN pt.topic_id >= 0 THEN pt.topic_id ELSE -1 END AS topic,
                     {period_start_sql(period)} AS period,
                     {_VOICE} AS voice
              FROM passages p JOIN passage_topics pt USING (passage_id)
              JOIN documents d USING (doc_id))""")
    con.execute(f"""
        CREATE TEMP TABLE lbl_pairs AS
        SELECT row, topic, pc, vc, e.key AS h, e.value::INTEGER AS n
        FROM (SELECT r.row, r.topic, r.pc, r.vc, unnest(map_entries(list_aggregate(
                  {_hashed_terms_sql(stop_words)}, 'histogram'))) AS e
              FROM lbl_rows r JOIN passages p USING (passage_id))""")
    return con.execute("SELECT count(*), count(DISTINCT topic) FILTER (topic >= 0) "
                       "FROM lbl_rows").fetchone()


def _common(con) -> dict[int, float]:
    """Hash -> spread of the corpus-wide common terms (`nlp.terms.common_terms`): in every
    period, and over the topics (outliers left out) at least COMMON_SPREAD as evenly as
    their passages."""
    sizes = [r[0] for r in con.execute(
        "SELECT count(*) FROM lbl_rows WHERE topic >= 0 GROUP BY topic").fetchall()]
    total = sum(sizes)
    if len(sizes) < 2:
        return {}
    overall = math.exp(-sum(s / total * math.log(s / total) for s in sizes))
    if overall <= 1:
        return {}
    rows = con.execute("""
        WITH present AS (
            SELECT h FROM (SELECT DISTINCT h, pc FROM lbl_pairs SEMI JOIN lbl_vocab USING (h))
            GROUP BY h HAVING count(*) = (SELECT count(DISTINCT pc) FROM lbl_rows)),
        shares AS (SELECT h, m / sum(m) OVER (PARTITION BY h) AS p
                   FROM lbl_tc SEMI JOIN present USING (h) WHERE topic >= 0)
        SELECT h, (exp(-sum(p * ln(p))) - 1) / (? - 1) AS spread FROM shares GROUP BY h""",
                       [overall]).fetchall()
    return {h: s for h, s in rows if s >= COMMON_SPREAD}


def _weights(con, classes: int) -> None:
    """lbl_weights: each topic's c-TF-IDF weight per kept term, a one-voice term's ranked
    after the shared ones (`nlp.terms.topic_terms`, `one_voice_terms`)."""
    con.execute("""
        CREATE TEMP TABLE lbl_weights AS
        WITH sums AS (SELECT topic, sum(occ) AS s FROM lbl_tc GROUP BY topic),
        freq AS (SELECT h, sum(occ) AS f FROM lbl_tc GROUP BY h),
        avg AS (SELECT sum(occ)::DOUBLE / ? AS a FROM lbl_tc),
        voices AS (SELECT topic, max(n)::DOUBLE / sum(n) AS share
                   FROM (SELECT topic, vc, count(*) AS n FROM lbl_rows GROUP BY ALL)
                   GROUP BY topic),
        raw AS (
            SELECT c.topic, c.h,
                   sqrt(c.occ / greatest(s.s, 1)::DOUBLE)
                       * ln(1 + (SELECT a FROM avg) / greatest(f.f, 1)) AS w,
                   c.top / c.m::DOUBLE AS share, v.share AS topic_share
            FROM lbl_tc c JOIN sums s USING (topic) JOIN freq f USING (h)
            JOIN voices v USING (topic)
            WHERE c.topic >= 0)
        SELECT topic, h,
               CASE WHEN share > ? AND share > topic_share THEN w - w * ? ELSE w END AS weight
        FROM raw""", [float(classes), MAX_VOICE_SHARE, 1 - 1e-6])


def _names(con, hashes: list[int], stop_words: list[str]) -> dict[int, str]:
    """The term of each of `hashes`, read from one passage carrying it."""
    need = pa.table({"h": pa.array(hashes, pa.uint64())})  # noqa: F841 (SQL)
    con.execute("CREATE OR REPLACE TEMP TABLE lbl_need AS "
                "SELECT h, min(row) AS row FROM lbl_pairs SEMI JOIN need USING (h) GROUP BY h")
    return dict(con.execute(f"""
        SELECT hash(t) AS h, min(t) FROM (
            SELECT unnest(list_distinct({_terms_sql(stop_words)})) AS t
            FROM lbl_rows r JOIN passages p USING (passage_id)
            WHERE r.row IN (SELECT row FROM lbl_need))
        WHERE hash(t) IN (SELECT h FROM lbl_need) GROUP BY 1""").fetchall())


def _top_terms(con, ids: list[int], common: dict[int, float], n_terms: int,
               stop_words: list[str]) -> tuple[dict[int, list[str]], dict[str, float]]:
    """Each topic's top `n_terms` terms: its 2 x `n_terms` best by weight that lean on no
    common word (ties by code point), de-duplicated (`dedupe_terms`); and the common terms
    named, with their spread. Names are read in one pass over the terms per round."""
    out: dict[int, list[str]] = {t: [] for t in ids}
    sizes = dict(con.execute("SELECT topic, count(*) FROM lbl_weights GROUP BY topic").fetchall())
    todo, limit, learned = [t for t in ids if sizes.get(t)], FIRST_CANDIDATES, None
    while todo:
        table = pa.table({"topic": pa.array(todo, pa.int64())})  # noqa: F841 (SQL)
        cands = con.execute("""
            SELECT topic, h, weight FROM (
                SELECT w.*, rank() OVER (PARTITION BY topic ORDER BY weight DESC) AS r
                FROM lbl_weights w SEMI JOIN "table" USING (topic))
            WHERE r <= ?""", [limit]).fetchall()
        wanted = {h for _, h, _ in cands} | (set(common) if learned is None else set())
        names = _names(con, sorted(wanted), stop_words)
        if learned is None:
            learned = {names[h]: spread for h, spread in common.items()}
        by_topic: dict[int, list[tuple[float, str]]] = {}
        for topic, h, weight in cands:
            if weight > 0 and not _leans_on_common(names[h], learned):
                by_topic.setdefault(topic, []).append((-weight, names[h]))
        again = []
        for t in todo:
            ranked = sorted(by_topic.get(t, []))
            if len(ranked) < n_terms * 2 and sizes[t] > limit:
                again.append(t)  # terms beyond the candidates may still be needed
                continue
            out[t] = dedupe_terms([term for _, term in ranked[: n_terms * 2]])[:n_terms]
        todo, limit = again, limit * 4
    if learned is None:  # no topic has a kept term
        names = _names(con, sorted(common), stop_words) if common else {}
        learned = {names[h]: spread for h, spread in common.items()}
    return out, learned
