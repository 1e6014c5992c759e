"""Every dashboard page rendered by Streamlit's AppTest on a small realistic warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import dashboard_fixtures as fx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ["views/radar.py", "views/topic.py", "views/signals.py", "views/triage.py",
         "views/search.py", "views/sources.py", "views/warehouse.py", "views/compare.py"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A project with the test corpus, shared by the read-only tests of this module."""
    from radar.app.init_project import init_project
    from radar.core.config import load_config

    folder = tmp_path_factory.mktemp("dash")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RADAR_PSEUDONYM_SALT", "test-salt")
        config = folder / "radar.toml"
        init_project(config)
    fx.build(load_config(config).warehouse_path)
    return config


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def app(config: Path, monkeypatch, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("RADAR_CONFIG", str(config))
    at = AppTest.from_file(APP, default_timeout=60)
    if page and page != PAGES[0]:
        at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info",
                                  "warning", "error", "success") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def metric(at: AppTest, label: str):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(corpus, monkeypatch, page):
    at = app(corpus, monkeypatch, page, **({"topic": "1"} if page.endswith("topic.py") else {}))
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    expected = {"radar": "Radar", "topic": "Heat pump grants", "signals": "Signals",
                "triage": "Triage", "search": "Search", "sources": "Sources",
                "warehouse": "Warehouse", "compare": "Compare periods"}[Path(page).stem]
    assert expected in [t.value for t in at.title]


@pytest.mark.parametrize("page", PAGES)
def test_empty_warehouse_explains_what_to_do(project, monkeypatch, page):
    at = app(project, monkeypatch, page)
    assert not at.exception, [e.value for e in at.exception]
    if Path(page).stem == "warehouse":
        assert "documents" in at.dataframe[0].value["name"].tolist()
    else:
        assert "radar crawl" in texts(at) or "radar import" in texts(at)


def test_radar_filters_change_the_picture(corpus, monkeypatch):
    at = app(corpus, monkeypatch)
    assert metric(at, "Topics on the radar") == "7"
    assert metric(at, "In Act") == "2"
    assert metric(at, "New this period") == "1"
    assert metric(at, "Moved in") == "2" and metric(at, "Moved out") == "1"
    assert metric(at, "Left") == "1"
    # The Youth centre topic left the radar and is listed as such.
    assert "Left the radar this period" in texts(at)
    # Beside the picture: every topic on the radar, numbered, with its movement marker.
    links = [e.proto.label for e in at.get("page_link")]
    assert len(links) == 7
    assert any(lbl.startswith("1\\. ") for lbl in links)
    assert any("★ Library makerspaces · weak signal" in lbl for lbl in links)
    # A weak signal names the new theme it stands for, not only the topic holding it
    # (escaped: Streamlit reads Markdown in labels).
    assert any(lbl.endswith("★ Library makerspaces · weak signal\\: 3d printer, evening booking")
               for lbl in links), links
    assert any("▲ Heat pump grants" in lbl for lbl in links)

    at.multiselect(key="radar_areas").select("transport").run()
    assert metric(at, "Topics on the radar") == "1"
    assert at.dataframe[0].value["label"].tolist() == ["E-scooter parking"]
    at.multiselect(key="radar_areas").unselect("transport").run()

    at.toggle(key="radar_expectations").set_value(True).run()
    assert sorted(at.dataframe[0].value["label"]) == ["AI chatbots for council services",
                                                      "Heat pump grants"]
    at.toggle(key="radar_expectations").set_value(False).run()

    at.number_input(key="radar_min_sources").set_value(5).run()
    assert set(at.dataframe[0].value["sources"]) <= {5}
    assert metric(at, "Topics on the radar") == "2"
    at.number_input(key="radar_min_sources").set_value(0).run()

    # With the citizen channel only, blip size counts citizen passages only.
    at.multiselect(key="radar_channels").select("citizen").run()
    table = at.dataframe[0].value.set_index("label")
    assert table.loc["Heat pump grants", "passages"] == 2
    assert "E-scooter parking" not in table.index  # no citizen passages this period

    at.selectbox(key="radar_period").select(fx.PREVIOUS).run()
    assert metric(at, "New this period") == "0"
    assert not at.exception


def test_radar_opens_a_topic(corpus, monkeypatch):
    at = app(corpus, monkeypatch)
    at.selectbox(key="radar_open").select(4).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["AI chatbots for council services"]
    assert at.query_params["topic"] == ["4"] or at.query_params["topic"] == "4"


def test_topic_page_shows_evidence_and_hides_quotes_of_a_narrow_voice(corpus, monkeypatch):
    at = app(corpus, monkeypatch, "views/topic.py", topic="1")
    body = texts(at)
    assert "Moved in from Prepare to Act" in body
    assert "Growing" in body and "Breadth" in body and "Channel mix" in body
    assert "Households ask how the new heat pump grants work" in body
    assert "Expectation gap" in body and "state an expectation" in body
    sources = at.dataframe[0].value
    assert {"city-news", "regional-paper", "polis"} <= set(sources["source"])
    assert "Nobody has triaged this topic yet" in body

    # Topic 7 is carried by two citizen authors: their words are never quoted.
    at = app(corpus, monkeypatch, "views/topic.py", topic="7")
    body = texts(at)
    assert "Narrow voice" in body
    assert "Quote hidden" in body
    citizen_quote = "Volunteers visit older people"
    shown = [m.value for m in at.markdown if citizen_quote in m.value]
    assert len(shown) < 8  # news and policy passages still show; citizen ones are hidden

    at = app(corpus, monkeypatch, "views/topic.py", topic="999")
    assert "no active topic 999" in texts(at)


def test_signals_table_filters_and_exports_csv(corpus, monkeypatch):
    at = app(corpus, monkeypatch, "views/signals.py")
    assert len(at.dataframe[0].value) == 8
    at.multiselect(key="signals_rings").select("Act").run()
    table = at.dataframe[0].value
    assert set(table["ring"]) == {"Act"} and len(table) == 2
    assert "2 of 8 signals" in texts(at)
    download = at.get("download_button")[0]
    assert download.proto.label == "Download CSV"


def test_sources_page_shows_crawls_and_errors(corpus, monkeypatch):
    at = app(corpus, monkeypatch, "views/sources.py")
    health = at.dataframe[0].value.set_index("source")
    assert health.loc["gov-policy", "last_status"] == "partial"
    assert health.loc["citizen-forum", "channel"] == "citizen"
    at.selectbox(key="sources_pick").select("gov-policy").run()
    errors = at.dataframe[1].value
    assert "PDF has no text layer" in set(errors["reason"])
    at.multiselect(key="sources_channels").select("news").run()
    assert set(at.dataframe[0].value["channel"]) == {"news"}


def test_warehouse_page_lists_tables_and_examples(corpus, monkeypatch):
    at = app(corpus, monkeypatch, "views/warehouse.py")
    names = set(at.dataframe[0].value["name"])
    assert {"documents", "topics", "signals", "triage_log", "radar_latest"} <= names
    assert any("radar_latest" in c.value for c in at.code)


def test_search_finds_a_planted_phrase_with_and_without_the_index(corpus, monkeypatch):
    from radar.core.config import load_config
    from radar.core.search_index import build_search_index

    at = app(corpus, monkeypatch, "views/search.py")
    at.radio(key="search_kind").set_value("documents").run()
    at.text_input(key="search_text").input(fx.PLANTED_PHRASE).run()
    assert "Underground waste collection" in texts(at)
    assert "text scan" in texts(at)
    at.multiselect(key="search_channels").select("news").run()
    assert "Underground waste collection" not in texts(at)
    assert "Nothing found" in texts(at)

    build_search_index(load_config(corpus).warehouse_path)
    st.cache_data.clear()
    at = app(corpus, monkeypatch, "views/search.py")
    at.radio(key="search_kind").set_value("documents").run()
    at.text_input(key="search_text").input(f'"{fx.PLANTED_PHRASE}"').run()
    assert "full-text index" in texts(at)
    assert "Underground waste collection" in texts(at)
    # Passages link to their topic.
    at.radio(key="search_kind").set_value("passages").run()
    at.text_input(key="search_text").input("heat pump grants").run()
    links = at.get("page_link")
    assert any("Heat pump grants" in link.proto.label for link in links)


def test_crawled_markup_in_a_title_shows_as_text(project, monkeypatch):
    from radar.core import warehouse
    from radar.core.config import load_config

    # The planted post is a citizen post without a topic, which search now withholds
    # (fewer than k authors); shown as a news document, its markup must stay text.
    path = fx.build(load_config(project).warehouse_path)
    with warehouse.write(path) as con:
        con.execute("UPDATE documents SET channel = 'news' WHERE title = ?", [fx.XSS_TITLE])
    at = app(project, monkeypatch, "views/search.py")
    at.radio(key="search_kind").set_value("documents").run()
    at.text_input(key="search_text").input("bus lanes").run()
    hits = [m for m in at.markdown if "script" in m.value]
    assert hits, texts(at)
    for m in hits:
        assert not m.proto.allow_html
        assert not re.search(r"(?<!\\)<", m.value)  # every < is escaped: \<script\>
        assert r"\<script\>alert" in m.value
    assert not at.get("html")


def test_password_gate(corpus, monkeypatch, tmp_path):
    from dashboard.auth import hash_password

    config = tmp_path / "radar.toml"
    text = corpus.read_text().replace('password_hash = ""',
                                      f'password_hash = "{hash_password("open sesame")}"')
    text = text.replace('path = "radar.duckdb"', f'path = "{corpus.parent / "radar.duckdb"}"')
    config.write_text(text)
    at = app(config, monkeypatch)
    assert "Radar" not in [t.value for t in at.title]
    assert not at.dataframe
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password." in [e.value for e in at.error]
    assert not at.dataframe
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    assert "Radar" in [t.value for t in at.title]
    assert metric(at, "Topics on the radar") == "7"


def test_compare_two_periods_lists_each_change_with_its_reason(corpus, monkeypatch):
    at = app(corpus, monkeypatch, "views/compare.py")
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "★ Entered the radar") == "1"
    assert metric(at, "▲ Moved in (more urgent)") == "2"
    assert metric(at, "▼ Moved out (less urgent)") == "1"
    assert metric(at, "× Left the radar") == "1"
    entered, moved_in, moved_out, left = (df.value for df in at.dataframe[:4])
    assert entered["topic"].tolist() == ["Library makerspaces"]
    assert entered["reason"].iloc[0].startswith("not on the radar before: Library makerspaces is")
    assert sorted(moved_in["topic"]) == ["AI chatbots for council services", "Heat pump grants"]
    assert moved_out["topic"].tolist() == ["Four-day week trials"]
    assert left["topic"].tolist() == ["Youth centre closures"]
    assert left["reason"].iloc[0].startswith("was Monitor")
    # Listed in full above the tables, with rings and reason, each opening its topic.
    captions = [c.value for c in at.caption]
    assert any("environment and energy · from Prepare to Act: Heat pump grants"
               in c.replace("\\", "") for c in captions)
    assert any("safety · was Monitor" in c.replace("\\", "") for c in captions)
    # The first period has nothing before it: said so, not an empty comparison.
    at.selectbox(key="compare_after").select(fx.PREVIOUS).run()
    assert not at.exception and "first scored period" in texts(at)
