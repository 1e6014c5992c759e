"""Refresh what is derived from the assignments: sizes, first_seen, expectation share,
representative passages, terms and labels, service areas and time series.

Runs after any change to passage_topics, or when a setting that shapes these
(stop words, period, taxonomy) changed. Sizes, shares, representatives and the
time series are SQL over the warehouse; so are a large corpus's term counts (c-TF-IDF,
nlp/label_counts.py), of which Python reads each topic's best candidates only (a small
corpus is counted in memory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from nlp import areas as areas_mod
from nlp import timeseries
from nlp.embeddings import Embedder, vectors_from_arrow, vectors_to_arrow
from nlp.label_counts import count_topic_terms
from nlp.surface import readable_label
from nlp.terms import label_still_fits, label_terms, short_label
from radar.core import warehouse
from radar.core.config import Config
from radar.core.periods import period_start_sql


def refresh_stats(path, period: str, representatives: int, reset_first_seen: bool = False) -> None:
    """Sizes, first_seen, expectation shares, representatives and time series (one transaction).

    first_seen only moves earlier, unless the period changed (`reset_first_seen`): then it
    is recomputed in the new period's terms from the passages topics hold now.
    """
    with warehouse.write(path) as con:
        write_stats(con, period, representatives, reset_first_seen)


def write_stats(con, period: str, representatives: int, reset_first_seen: bool = False) -> None:
    """`refresh_stats` on a write connection (inside the caller's transaction)."""
    if reset_first_seen:
        con.execute("UPDATE topics SET first_seen = NULL")
    con.execute(f"""
        UPDATE topics SET size = coalesce(s.n, 0), expectation_share = coalesce(s.share, 0),
               first_seen = CASE WHEN s.first IS NULL THEN topics.first_seen
                                 ELSE least(coalesce(topics.first_seen, s.first), s.first) END,
               representative_passages = s.reps
        FROM (
            SELECT t.topic_id, x.n, x.share, x.first, x.reps FROM topics t LEFT JOIN (
                SELECT pt.topic_id, count(*) AS n, avg(p.is_expectation::INT) AS share,
                       min({period_start_sql(period)}) AS first,
                       list(pt.passage_id ORDER BY pt.probability DESC NULLS LAST, pt.passage_id)
                           [1:{int(representatives)}] AS reps
                FROM passage_topics pt JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
                WHERE pt.topic_id >= 0 GROUP BY pt.topic_id
            ) x USING (topic_id)
        ) s WHERE topics.topic_id = s.topic_id
    """)
    timeseries.rebuild(con, period)


# Passages of a topic read to write its label's terms as they are written (nlp/surface.py):
# a sample, so that labelling costs the same at 1,000 or 1,000,000 passages.
LABEL_TEXTS = 200


def label_texts(con, topic_ids: set[int], per_topic: int = LABEL_TEXTS) -> dict[int, list[str]]:
    """Up to `per_topic` passage texts of each topic (a fixed sample: by hash of the id)."""
    if not topic_ids:
        return {}
    ids = pa.table({"topic_id": pa.array(sorted(topic_ids), pa.int32())})  # noqa: F841 (SQL)
    rows = con.execute("""
        SELECT topic_id, text FROM (
            SELECT pt.topic_id, p.text,
                   row_number() OVER (PARTITION BY pt.topic_id
                                      ORDER BY hash(pt.passage_id), pt.passage_id) AS rn
            FROM passage_topics pt JOIN passages p USING (passage_id)
            WHERE pt.topic_id IN (SELECT topic_id FROM ids)
        ) WHERE rn <= ? ORDER BY topic_id, rn""", [int(per_topic)]).fetchall()
    out: dict[int, list[str]] = {}
    for topic_id, text in rows:
        out.setdefault(int(topic_id), []).append(text)
    return out


@dataclass
class LabelUpdate:
    """What `label_update` found: the topics whose top terms changed (`changed`), the labels
    and top terms to write for `update`, every labelled topic's top terms (`terms`) and the
    learned common terms (term -> spread)."""

    changed: set[int]
    update: list[int]
    labels: dict[int, str]
    terms: dict[int, list[str]]
    learned: dict[str, float]


def refresh_labels(path, stop_words: list[str], period: str = "month", *,
                   steady: bool = True) -> set[int]:
    """Recompute every topic's top terms and label from all passages' terms; returns the
    ids whose top terms changed (their service area may change too). `label_update`, then
    `write_labels` in one transaction."""
    labels = label_update(path, stop_words, period, steady=steady)
    with warehouse.write(path) as con:
        write_labels(con, labels)
    return labels.changed


def label_update(path, stop_words: list[str], period: str = "month", *,
                 steady: bool = True) -> LabelUpdate:
    """Every topic's top terms and label from all passages' terms (reads only). Terms common
    to the whole corpus in every `period` are learned here and kept out of terms and labels.
    A label is the best top terms (`label_terms`) written as the topic's passages write
    them (`readable_label`: "invasion of Kuwait" for the lemmas "invasion kuwait").
    With `steady`, a topic keeps its label while the terms it is made of are still among
    those a fresh label would draw on, and one more (`label_still_fits`); without (after
    an erasure, whose texts may have given a label its written form), every changed topic
    is labelled afresh."""
    with warehouse.read(path) as con:
        stored = con.execute("SELECT topic_id, top_terms, label FROM topics").fetchall()
        terms, learned = count_topic_terms(con, period, stop_words)
        before = {t: top for t, top, _ in stored}
        changed = {t for t, v in terms.items() if before.get(t) != v}
        # Labels still in lemma form (a warehouse labelled before labels were written out,
        # or a topic whose passages spell no term differently) are written again.
        lemma_form = {t for t, _, label in stored
                      if t in terms and terms[t] and label == short_label(terms[t])}
        labels = {t: label for t, _, label in stored}
        kept = {t for t in changed - lemma_form
                if steady and labels.get(t) and label_still_fits(before.get(t), terms[t])}
        update = sorted(changed | lemma_form)
        fresh = [t for t in update if t not in kept]
        texts = label_texts(con, set(fresh)) if fresh else {}
    for t in fresh:
        labels[t] = (readable_label(label_terms(terms[t]), texts.get(t, []))
                     if terms[t] else short_label(terms[t]))
    return LabelUpdate(changed, update, {t: labels[t] for t in update}, terms, learned)


def write_labels(con, labels: LabelUpdate) -> None:
    """Write `label_update`'s common terms, labels and top terms on a write connection."""
    common_tbl = pa.table({  # noqa: F841 (used by SQL)
        "term": pa.array(list(labels.learned), pa.string()),
        "spread": pa.array(list(labels.learned.values()), pa.float64())})
    con.execute("DELETE FROM common_terms")
    con.execute("INSERT INTO common_terms (term, spread) SELECT term, spread FROM common_tbl")
    if labels.update:
        arrow_tbl = pa.table({  # noqa: F841 (used by SQL)
            "topic_id": pa.array(labels.update, pa.int32()),
            "label": pa.array([labels.labels[t] for t in labels.update], pa.string()),
            "top_terms": pa.array([labels.terms[t] for t in labels.update], pa.list_(pa.string())),
        })
        con.execute("UPDATE topics SET label = t.label, top_terms = t.top_terms FROM arrow_tbl t "
                    "WHERE topics.topic_id = t.topic_id")


def sync_taxonomy(path, cfg: Config, embedder: Callable[[], Embedder]) -> bool:
    """Embed the configured areas if they differ from the stored taxonomy; True if they changed."""
    wanted = [(a.name, a.description) for a in cfg.areas]
    model = cfg.analysis.vector_model
    stored = warehouse.query(path, "SELECT name, description, model FROM service_areas ORDER BY name")
    if sorted(wanted) == [(n, d) for n, d, _ in stored] and all(m == model for *_, m in stored):
        return False
    vectors = embedder().encode([areas_mod.area_text(n, d) for n, d in wanted]) if wanted else None
    arrow_tbl = pa.table({  # noqa: F841 (used by SQL)
        "name": pa.array([n for n, _ in wanted], pa.string()),
        "description": pa.array([d for _, d in wanted], pa.string()),
        "model": pa.array([model] * len(wanted), pa.string()),
        "vector": vectors_to_arrow(vectors) if wanted else pa.array([], pa.list_(pa.float32())),
    })
    with warehouse.write(path) as con:
        con.execute("DELETE FROM service_areas")
        con.execute("INSERT INTO service_areas SELECT name, description, model, vector FROM arrow_tbl")
    return True


def area_update(path, threshold: float, embedder: Callable[[], Embedder],
                only: set[int] | None = None,
                top_terms: dict[int, list[str]] | None = None) -> pa.Table | None:
    """(topic_id, service_area, area_similarity) of active topics (all, or those in `only`),
    each the closest service area (or "other"); None when there is none (reads only).
    Embedding the topics' terms is the costly part, so incremental runs pass only the topics
    whose terms changed. `top_terms`: topics' top terms not yet written (a `LabelUpdate`'s),
    used instead of the stored ones. `write_areas` writes them."""
    if only is not None and not only:
        return None
    where = "" if only is None else f" AND topic_id IN ({', '.join(str(int(t)) for t in only)})"
    with warehouse.read(path) as con:
        topics = con.execute("SELECT topic_id, centroid, top_terms FROM topics WHERE active AND "
                             f"centroid IS NOT NULL{where} ORDER BY topic_id").to_arrow_table()
        areas = con.execute("SELECT name, vector FROM service_areas ORDER BY name").to_arrow_table()
    if topics.num_rows == 0:
        return None
    centroids = vectors_from_arrow(topics["centroid"])
    newer = top_terms or {}
    terms = [newer.get(t, stored) for t, stored in zip(topics["topic_id"].to_pylist(),
                                                       topics["top_terms"].to_pylist(), strict=True)]
    term_texts = [", ".join((t or [])[:10]) for t in terms]
    term_vectors = embedder().encode(term_texts) if any(term_texts) else None
    names = areas["name"].to_pylist()
    area_vectors = vectors_from_arrow(areas["vector"]) if names else np.zeros((0, centroids.shape[1]))
    best = areas_mod.best_areas(areas_mod.topic_vectors(centroids, term_vectors), names,
                                area_vectors, threshold)
    return pa.table({
        "topic_id": topics["topic_id"],
        "service_area": pa.array([b[0] for b in best], pa.string()),
        "area_similarity": pa.array([b[1] for b in best], pa.float64()),
    })


def write_areas(con, areas: pa.Table) -> None:
    """Write `area_update`'s service areas on a write connection."""
    arrow_tbl = areas  # noqa: F841 (used by SQL)
    con.execute("UPDATE topics SET service_area = t.service_area, area_similarity = t.area_similarity "
                "FROM arrow_tbl t WHERE topics.topic_id = t.topic_id")
