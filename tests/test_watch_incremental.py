"""The watch list's refresh matches only what is new, and ends where a full match would.

A passage is matched against a watch item once; again only when it is rewritten (its
`created_at` moves) or when the item changes (keywords, threshold, vector, model). The
checks compare an incremental refresh with `refresh(full=True)` on the same warehouse, and
show the incremental scope directly: a passage dated before the item's last match is not
looked at again unless the item changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from radar.core import warehouse
from radar.core.config import load_config
from radar.decisions import watch

OLD = datetime(2026, 1, 5, 12)


@pytest.fixture
def cfg(project):
    cfg = load_config(project)
    model = cfg.analysis.vector_model
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO watch_items (watch_id, name, keywords, similarity, origin, "
                    "created_at, updated_at) VALUES (1, 'Drones', ['drone delivery'], 0.9, 'cli', "
                    "now(), now()), (2, 'Lockers', ['library locker'], NULL, 'cli', now(), now())")
        con.execute("INSERT INTO catalogue_vectors VALUES ('watch', 1, 'h1', ?, [1.0, 0.0, 0.0])",
                    [model])
        for i, text in enumerate(["Council weighs drone delivery of books.",
                                  "A library locker opens at the station.",
                                  "Parks get new benches.",
                                  "Air taxis over the river."]):  # the last is near the drone vector
            add(con, f"d{i}", text, [0.95, 0.3, 0.0] if i == 3 else [0.0, 1.0, 0.0], model, OLD)
    return cfg


def add(con, doc: str, text: str, vector, model: str, created=None) -> None:
    """A document with one passage (and its vector, unless None), as the NLP stage writes it."""
    con.execute("DELETE FROM documents WHERE doc_id = ?", [doc])
    con.execute("INSERT INTO documents (doc_id, text, published_at, fetched_at, source, channel, "
                "content_hash) VALUES (?, ?, DATE '2026-01-03', DATE '2026-01-03', 'news-1', "
                "'news', ?)", [doc, text, doc])
    con.execute("DELETE FROM passages WHERE doc_id = ?", [doc])
    con.execute("DELETE FROM passage_embeddings WHERE passage_id = ?", [f"{doc}:0"])
    con.execute("INSERT INTO passages (passage_id, doc_id, seq, text, n_words, created_at) "
                "VALUES (?, ?, 0, ?, 5, coalesce(?::TIMESTAMP, current_timestamp::TIMESTAMP))",
                [f"{doc}:0", doc, text, created])
    if vector is not None:
        con.execute("INSERT INTO passage_embeddings VALUES (?, ?, ?)", [f"{doc}:0", model, vector])


def state(cfg) -> tuple[list, list]:
    return (warehouse.query(cfg.warehouse_path, "SELECT watch_id, passage_id, round(similarity, 4), "
                            "keyword FROM watch_matches ORDER BY ALL"),
            warehouse.query(cfg.warehouse_path, "SELECT * FROM watch_periods ORDER BY ALL"))


def same_as_full(cfg) -> tuple[list, list]:
    """Refresh incrementally, then fully, on the same warehouse: both must agree."""
    watch.refresh(cfg)
    incremental = state(cfg)
    watch.refresh(cfg, full=True)
    assert state(cfg) == incremental
    return incremental


def test_new_edited_and_removed_passages_end_as_a_full_match_would(cfg):
    matches, periods = same_as_full(cfg)
    assert [(w, p) for w, p, _, _ in matches] == [(1, "d0:0"), (1, "d3:0"), (2, "d1:0")]
    assert periods == [(1, datetime(2026, 1, 1).date(), "news", 2, 2, 1, 0),
                       (2, datetime(2026, 1, 1).date(), "news", 1, 1, 1, 0)]
    model = cfg.analysis.vector_model
    with warehouse.write(cfg.warehouse_path) as con:
        add(con, "d4", "Drone delivery trial extended.", [0.0, 1.0, 0.0], model)   # new
        add(con, "d0", "Council drops the book scheme.", [0.0, 1.0, 0.0], model)   # edited
        con.execute("DELETE FROM passages WHERE doc_id = 'd1'")                     # removed
    matches, _ = same_as_full(cfg)
    assert [(w, p, k) for w, p, _, k in matches] == [(1, "d3:0", None), (1, "d4:0", "Drone delivery")]


def test_only_passages_written_since_the_last_match_are_looked_at(cfg):
    watch.refresh(cfg)
    model = cfg.analysis.vector_model
    with warehouse.write(cfg.warehouse_path) as con:
        # Dated before the last match (the radar never writes such a row): not looked at.
        add(con, "old", "A library locker for tools.", [0.0, 1.0, 0.0], model, OLD - timedelta(days=2))
        # Within MARGIN before the mark (a clock set back a little): looked at again.
        mark = con.execute("SELECT matched_through FROM watch_state WHERE watch_id = 2").fetchone()[0]
        add(con, "late", "Library locker pilot.", [0.0, 1.0, 0.0], model,
            mark - watch.MARGIN + timedelta(minutes=5))
    watch.refresh(cfg)
    ids = {p for w, p, _, _ in state(cfg)[0] if w == 2}
    assert ids == {"d1:0", "late:0"}
    # The item changes: every passage is matched again, the old one included.
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE watch_items SET keywords = ['library locker', 'locker'] WHERE watch_id = 2")
    watch.refresh(cfg)
    assert {p for w, p, _, _ in state(cfg)[0] if w == 2} == {"d1:0", "late:0", "old:0"}


def test_a_threshold_or_vector_change_and_a_paused_item_are_followed(cfg):
    watch.refresh(cfg)
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE watch_items SET similarity = 0.99 WHERE watch_id = 1")
    watch.refresh(cfg)
    assert {p for w, p, _, _ in state(cfg)[0] if w == 1} == {"d0:0"}  # keyword only now
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE watch_items SET similarity = 0.9 WHERE watch_id = 1")
        con.execute("UPDATE catalogue_vectors SET vector = [0.0, 1.0, 0.0], text_hash = 'h2' "
                    "WHERE item_id = 1")
    matches, _ = same_as_full(cfg)
    assert {p for w, p, _, _ in matches if w == 1} == {"d0:0", "d1:0", "d2:0"}
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE watch_items SET active = false WHERE watch_id = 1")
    matches, periods = same_as_full(cfg)
    assert {w for w, *_ in matches} == {2} and {p[0] for p in periods} == {2}
    assert warehouse.query(cfg.warehouse_path, "SELECT watch_id FROM watch_state") == [(2,)]


def test_a_passage_waiting_for_its_vector_is_matched_once_it_has_one(cfg):
    watch.refresh(cfg)
    model = cfg.analysis.vector_model
    with warehouse.write(cfg.warehouse_path) as con:
        add(con, "wait", "Packages by air over the river.", None, model)  # no keyword, no vector yet
    watch.refresh(cfg)
    assert "wait:0" not in {p for _, p, _, _ in state(cfg)[0]}
    with warehouse.write(cfg.warehouse_path) as con:  # embedded later, in its own write
        con.execute("INSERT INTO passage_embeddings VALUES ('wait:0', ?, [1.0, 0.1, 0.0])", [model])
        con.execute("UPDATE watch_state SET matched_through = matched_through")  # nothing else moves
    matches, _ = same_as_full(cfg)
    assert ("wait:0", None) in {(p, k) for w, p, _, k in matches if w == 1}
