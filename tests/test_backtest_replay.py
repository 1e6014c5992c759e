"""`radar backtest --topics replay`: topics discovered period by period, no look-ahead at all."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date

import pytest
from test_backtest import FIXTURES, _background, templates  # noqa: F401 (fixture)

from radar.app.plant import generate, inject, read_plants
from radar.app.replay import can_replay, replay, replay_report, terms_match
from radar.core import warehouse
from radar.core.config import WarehouseConfig
from radar.scoring.backtest import Event, label_words_common


def test_terms_match_folds_plurals_and_phrases():
    assert terms_match(["landmines", "mine clearance"], ["landmine"])
    assert terms_match(["climate change"], ["climate"]) and terms_match(["climate"], ["climate change"])
    assert not terms_match(["iraq"], ["iran"]) and not terms_match(["aids"], ["aid"])
    # Terms are lemmas of content words: the radar shows "responsibility protect".
    assert terms_match(["responsibility to protect"], ["responsibility protect"])
    # A term inside a keyword needs half of its content words: a generic word is no match.
    assert not terms_match(["an AI chatbot for council services"], ["council", "nature"])
    assert terms_match(["an AI chatbot for council services"], ["council service"])
    assert not terms_match(["international criminal court"], ["court"])
    assert terms_match(["international criminal court"], ["criminal court"])


def test_label_readability_counts_common_words():
    share, only_common = label_words_common(["united nations, general debate", "landmine ban"],
                                            {"united", "nations", "general", "debate"})
    assert share == pytest.approx(4 / 6) and only_common == ["united nations, general debate"]


@pytest.fixture
def analysed(project, templates, tmp_path_factory):  # noqa: F811
    """The real comments plus planted trends, analysed by the NLP stage (built once per test)."""
    from nlp.pipeline import analyze

    cfg = _background(project, templates, "raw.duckdb")
    plants, _ = read_plants(FIXTURES / "plants.csv")
    inject(cfg, generate(plants, cfg.analysis.period, 0), cfg.warehouse_path.parent)
    analyze(cfg)
    return cfg, [Event(p.name, [ph.lower() for ph in p.phrases] + [p.name], p.onset) for p in plants]


@pytest.mark.slow
def test_replay_knows_nothing_of_the_future_and_finds_planted_trends(analysed, tmp_path):
    """Replaying the whole year and replaying only its first seven months give the same radar
    for those months (topic discovery included), and the planted trends are found."""
    cfg, events = analysed
    assert can_replay(cfg)
    full = replay(cfg, events, tmp_path / "full")
    report = replay_report(cfg, events, full, tmp_path / "full")  # what backtest_replay reports
    assert report.topics_mode == "replay" and "prospective" in report.note
    detected = [e for e in report.events if e.detected]
    assert len(detected) >= 3, report.to_json()
    assert report.mean_act_prepare is not None and report.flags_by_period

    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copy2(cfg.warehouse_path, cut / "radar.duckdb")
    with warehouse.write(cut / "radar.duckdb") as con:
        late = "SELECT doc_id FROM documents WHERE published_at >= DATE '2024-08-01'"
        con.execute(f"DELETE FROM passage_embeddings WHERE passage_id IN "
                    f"(SELECT passage_id FROM passages WHERE doc_id IN ({late}))")
    cut_cfg = dataclasses.replace(cfg, warehouse=WarehouseConfig(path=str(cut / "radar.duckdb")))
    part = replay(cut_cfg, events, tmp_path / "part")
    assert part.periods[-1] == date(2024, 7, 1)

    def radar_of(res, until):
        return sorted((str(r["period_start"]), r["topic_id"], r["ring"], r["stage"], round(r["score"], 6))
                      for r in res.rows if r["period_start"] <= until)

    assert radar_of(full, date(2024, 7, 1)) == radar_of(part, date(2024, 7, 1))
    # The real warehouse was never touched: its topics are the ones the NLP stage stored.
    assert warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM passage_embeddings")[0][0] > 700
