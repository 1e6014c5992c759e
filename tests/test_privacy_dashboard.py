"""The k-threshold exits of the dashboard: search results and snippets, topic evidence
and expectation phrases show counts, not citizen text, under k distinct authors."""

from __future__ import annotations

from pathlib import Path

import dashboard_fixtures as fx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from radar.core import warehouse
from radar.core.config import load_config

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def corpus(project):
    fx.build(load_config(project).warehouse_path)
    return project


def run(config, monkeypatch, page, **params) -> AppTest:
    monkeypatch.setenv("RADAR_CONFIG", str(config))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _shown(at) -> str:
    # Markdown escapes (\\: \\-) removed, so a withheld title cannot hide behind one.
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "title", "subheader")
                     for e in getattr(at, kind)).replace("\\", "")


def _citizen_docs(config, topic_id: int) -> tuple[list[str], list[str]]:
    with warehouse.read(load_config(config).warehouse_path) as con:
        rows = con.execute(
            "SELECT d.title, p.text FROM passage_topics pt JOIN passages p USING (passage_id) "
            "JOIN documents d USING (doc_id) WHERE pt.topic_id = ? AND d.channel = 'citizen'",
            [topic_id]).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def test_search_withholds_citizen_results_of_a_small_topic(corpus, monkeypatch):
    # Topic 7's citizen posts come from fewer than k = 5 distinct authors.
    titles, _ = _citizen_docs(corpus, 7)
    assert titles
    at = run(corpus, monkeypatch, "views/search.py")
    at.radio(key="search_kind").set_value("documents").run()
    at.text_input(key="search_text").input("Volunteers visit older people").run()
    body = _shown(at)
    assert not any(t in body for t in titles)
    assert "(citizen post)" in body and "Citizen text withheld" in body
    assert "Loneliness among older people: update" in body  # news and policy results stay
    at.radio(key="search_kind").set_value("passages").run()
    body = _shown(at)
    assert not any(t in body for t in titles) and "Citizen text withheld" in body


def test_search_shows_citizen_results_at_k_authors(corpus, monkeypatch):
    with warehouse.read(load_config(corpus).warehouse_path) as con:
        (n,) = con.execute(
            "SELECT count(DISTINCT d.author_hash) FROM passage_topics pt JOIN passages p "
            "USING (passage_id) JOIN documents d USING (doc_id) WHERE pt.topic_id = 2 "
            "AND d.channel = 'citizen'").fetchone()
    text = corpus.read_text()
    assert "\nmin_authors = 5 " in text
    corpus.write_text(text.replace("\nmin_authors = 5 ", f"\nmin_authors = {n} ", 1))
    titles, _ = _citizen_docs(corpus, 2)
    at = run(corpus, monkeypatch, "views/search.py")
    at.radio(key="search_kind").set_value("documents").run()
    at.text_input(key="search_text").input("e-scooters left on pavements").run()
    body = _shown(at)
    assert any(t in body for t in titles)


def test_topic_evidence_and_expectation_phrases_hidden_under_k(corpus, monkeypatch):
    path = load_config(corpus).warehouse_path
    with warehouse.write(path) as con:  # topic 1 now carried by 3 authors in the scored period
        con.execute("UPDATE signals SET authors = 3 WHERE topic_id = 1")
        con.execute("UPDATE passages SET expectation_phrase = 'want the grant paid faster' "
                    "WHERE is_expectation")
        n_citizen_exp = con.execute(
            "SELECT count(*) FROM passage_topics pt JOIN passages p USING (passage_id) "
            "JOIN documents d USING (doc_id) WHERE pt.topic_id = 1 AND d.channel = 'citizen' "
            "AND p.is_expectation").fetchone()[0]
    titles, _ = _citizen_docs(corpus, 1)
    at = run(corpus, monkeypatch, "views/topic.py", topic="1")
    body = _shown(at)
    assert titles and not any(t in body for t in titles)
    assert "Quote hidden" in body
    if n_citizen_exp:
        assert "phrase hidden with the quote" in body
    hidden = [c for c in at.caption if "phrase hidden" in c.value]
    shown_phrases = [c for c in at.caption if "want the grant paid faster" in c.value]
    assert len(hidden) + len(shown_phrases) >= 1
    # News and policy evidence still shows with its phrase.
    assert "Households ask how the new heat pump grants work" in body
