"""`radar backtest`: events files, planted trends on a real citizen corpus, the CLI."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime

import pytest
from click.testing import CliRunner

from crawlers.importer import import_file
from radar.app.plant import generate, read_plants, run_plant
from radar.core import warehouse
from radar.core.config import load_config
from radar.core.periods import period_start
from radar.scoring.backtest import EventsFileError, read_events

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "scoring"


def write_background(tmp_path, seed=11):
    """The real Polis comments as import rows, re-dated uniformly over 2024 (seeded)."""
    rng = random.Random(seed)
    path = tmp_path / "background.jsonl"
    with (FIXTURES / "polis_background.csv").open(encoding="utf-8") as fh, \
            path.open("w", encoding="utf-8") as out:
        for row in csv.DictReader(fh):
            when = datetime(2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23))
            out.write(json.dumps({
                "url": f"https://polis.example/{row['conversation']}/{row['comment_id']}",
                "text": row["text"], "published_at": when.isoformat(),
                "source": f"polis-{row['conversation']}", "channel": "citizen",
                "author": f"{row['conversation']}:{row['author_id']}",
            }) + "\n")
    return path


def assign_by_conversation(path):
    """A deterministic topic stage: one passage per comment, one topic per conversation."""
    with warehouse.write(path) as con:
        con.execute("""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words)
            SELECT doc_id || ':0', doc_id, 0, text, len(string_split(text, ' ')) FROM documents""")
        con.execute("""
            CREATE TEMP TABLE convo AS
            SELECT source, (row_number() OVER (ORDER BY source)) - 1 AS topic_id
            FROM (SELECT DISTINCT source FROM documents)""")
        con.execute("""
            INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT d.doc_id || ':0', c.topic_id, 1.0, 'by-conversation'
            FROM documents d JOIN convo c USING (source)""")
        con.execute("""
            INSERT INTO topics (topic_id, label, top_terms, service_area, size, model_version)
            SELECT topic_id, replace(source, 'polis-', ''), [replace(source, 'polis-', '')],
                   'other', 0, 'by-conversation' FROM convo""")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The imported background (raw, and with topics by conversation), built once per module."""
    import shutil

    from radar.app.init_project import init_project

    folder = tmp_path_factory.mktemp("background")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RADAR_PSEUDONYM_SALT", "test-salt-not-secret")
        init_project(folder / "radar.toml")
        cfg = load_config(folder / "radar.toml")
        result = import_file(write_background(folder), cfg.warehouse_path)
        assert result.new_documents == 676 and not result.bad_rows
        shutil.copy2(cfg.warehouse_path, folder / "raw.duckdb")
        assign_by_conversation(cfg.warehouse_path)
        shutil.copy2(cfg.warehouse_path, folder / "assigned.duckdb")
    return folder


def _background(project, templates, name):
    import shutil

    cfg = load_config(project)
    shutil.copy2(templates / name, cfg.warehouse_path)
    return cfg


@pytest.fixture
def background(project, templates):
    """A project whose warehouse holds the real comments, no topics yet."""
    return _background(project, templates, "raw.duckdb")


@pytest.fixture
def assigned(project, templates):
    """A project whose warehouse holds the real comments with one topic per conversation."""
    return _background(project, templates, "assigned.duckdb")


def test_read_events_reports_bad_rows_and_keeps_the_rest():
    events, bad = read_events(FIXTURES / "events.csv")
    assert [e.name for e in events] == ["library sundays", "heat pumps"]
    assert events[0].keywords == ["library on sundays", "sunday opening"]
    assert len(bad) == 2 and "no keywords" in bad[0] and "not a date" in bad[1]


def test_evaluate_by_hand():
    """First flag, rank, lag, precision@k and false alarms on a three-topic replay."""
    from datetime import date

    from radar.scoring.backtest import Event, evaluate

    periods = [date(2024, m, 1) for m in range(1, 6)]

    def row(m, topic, score, stage=None, ring="Monitor"):
        return {"period_start": date(2024, m, 1), "topic_id": topic, "score": score,
                "stage": stage, "ring": ring}

    rows = [row(m, 0, 10) for m in range(1, 6)]                      # steady
    rows += [row(3, 1, 5), row(4, 1, 50, "weak signal", "Watch"), row(5, 1, 80, "emerging", "Act")]
    rows += [row(m, 2, 20) for m in range(1, 5)] + [row(5, 2, 30, "emerging", "Prepare")]
    events = [Event("one", ["x"], date(2024, 3, 15)), Event("missed", ["y"], date(2024, 4, 2))]
    report = evaluate(rows, periods, events, {"one": [1], "missed": []}, "month", k=2,
                      tolerance=1, warmup=3, max_lead=0)
    one, missed = report.events
    assert (one.first_flagged, one.rank, one.lag_periods, one.detected) == ("2024-04-01", 1, 1, True)
    assert missed.first_flagged is None and not missed.detected
    assert report.recall == 0.5 and report.mean_delay == 1.0
    # Top-2 from the first onset (March) on: in March topic 1 ranks third (score 5).
    assert report.precision_by_period == {"2024-03-01": 0.0, "2024-04-01": 0.5, "2024-05-01": 0.5}
    assert report.precision_at_k == pytest.approx(1 / 3)
    assert report.ideal_precision_at_k == 0.5  # one relevant topic in a top-2
    assert report.false_alarms == [{"topic_id": 2, "first_flagged": "2024-05-01",
                                    "periods_flagged": 1}]
    assert report.stable_topics == 2


def test_events_file_without_required_columns_is_a_clear_error(tmp_path):
    bad = tmp_path / "events.csv"
    bad.write_text("name,when\nx,2024-01-01\n")
    with pytest.raises(EventsFileError, match="missing column"):
        read_events(bad)


def test_plants_follow_their_growth_curve():
    plants, bad = read_plants(FIXTURES / "plants.csv")
    assert not bad and len(plants) == 5
    rows = generate(plants[:1], "month")
    per_month = {}
    for r in rows:
        per_month[r["published_at"][:7]] = per_month.get(r["published_at"][:7], 0) + 1
    assert list(per_month.items())[:3] == [("2024-05", 4), ("2024-06", 8), ("2024-07", 14)]
    assert all("librar" in r["text"].lower() for r in rows)
    assert len({r["source"] for r in rows}) == 4
    # In quarters the same curve: a quarter's passages, one quarter after the other.
    quarterly = {}
    for r in generate(plants[:1], "quarter"):
        q = period_start(datetime.fromisoformat(r["published_at"]), "quarter")
        quarterly[q] = quarterly.get(q, 0) + 1
    assert list(quarterly.items())[:3] == [(date(2024, 4, 1), 4), (date(2024, 7, 1), 8),
                                           (date(2024, 10, 1), 14)]


def test_planted_trends_on_real_citizen_comments_deterministic_topics(assigned, tmp_path):
    """At least 4 of 5 planted trends within 1 period of onset; at most 1 false alarm."""
    background = assigned
    plants, _ = read_plants(FIXTURES / "plants.csv")
    report = run_plant(background, plants, tmp_path / "plant", assign="deterministic")
    detected = [e for e in report.events if e.detected]
    assert len(detected) >= 4, report.to_json()
    assert all(0 <= e.lag_periods <= 1 for e in detected)
    assert len(report.false_alarms) <= 1, report.false_alarms
    assert report.stable_topics == 9
    assert report.precision_at_k is not None and report.precision_at_k > 0
    # The real warehouse was not touched: the plants live in the copy only.
    n = warehouse.query(background.warehouse_path, "SELECT count(*) FROM documents")[0][0]
    assert n == 676


def test_a_one_period_blip_in_one_conversation_is_not_detected_as_a_trend(assigned):
    """A burst of comments from one forum and a handful of authors may be watched, never more."""
    background = assigned
    with warehouse.write(background.warehouse_path) as con:
        # Ten more comments in one month from three authors of the UBI conversation.
        con.execute("""
            INSERT INTO documents (doc_id, text, published_at, fetched_at, source, channel,
                                   author_hash, content_hash)
            SELECT 'blip' || i, 'ubi now ' || i, TIMESTAMP '2024-10-10', TIMESTAMP '2024-10-10',
                   'polis-scoop-hivemind.ubi', 'citizen', 'loud' || (i % 3), 'blip' || i
            FROM range(25) t(i)""")
        con.execute("""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words)
            SELECT 'blip' || i || ':0', 'blip' || i, 0, 'ubi now', 2 FROM range(25) t(i)""")
        con.execute("""
            INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT 'blip' || i || ':0', (SELECT topic_id FROM topics WHERE label LIKE '%ubi'),
                   1.0, 'x' FROM range(25) t(i)""")
    from radar.scoring.inputs import load_series
    from radar.scoring.signals import compute_signals

    with warehouse.read(background.warehouse_path) as con:
        rows = compute_signals(load_series(con, "month"), background.scoring)
        topic = con.execute("SELECT topic_id FROM topics WHERE label LIKE '%ubi'").fetchone()[0]
    ubi = [r for r in rows if r["topic_id"] == topic and str(r["period_start"]) == "2024-10-01"][0]
    assert ubi["volume"] >= 25 and ubi["burst"] > 0  # it does jump...
    assert ubi["narrow_voice"] and ubi["ring"] == "Watch"  # ...but one forum is not a movement
    assert not ubi["show_quotes"] or ubi["authors"] >= 5


def test_backtest_cli_writes_table_and_json(assigned, tmp_path):
    background = assigned
    plants, _ = read_plants(FIXTURES / "plants.csv")
    workdir = tmp_path / "copy"
    run_plant(background, plants, workdir, assign="deterministic")
    out = tmp_path / "report.json"
    copy_cfg = tmp_path / "copy.toml"
    copy_cfg.write_text(f'[warehouse]\npath = "{workdir / "radar.duckdb"}"\n')
    result = CliRunner().invoke(
        __import__("radar.app.cli", fromlist=["cli"]).cli,
        ["backtest", str(FIXTURES / "events.csv"), "--json", str(out), "--config", str(copy_cfg)])
    assert result.exit_code == 0, result.output
    assert "library sundays" in result.output and "precision@10" in result.output
    assert "skipped" in result.output and "not a date" in result.output
    data = json.loads(out.read_text())
    lib = [e for e in data["events"] if e["name"] == "library sundays"][0]
    assert lib["detected"] and lib["first_flagged"].startswith("2024-05") and lib["rank"] >= 1
    assert lib["topic_label"] == "library sundays"  # the planted topic's label
    assert all("label" in fa for fa in data["false_alarms"])
    result = CliRunner().invoke(__import__("radar.app.cli", fromlist=["cli"]).cli,
                                ["backtest", "--config", str(copy_cfg)])
    assert result.exit_code != 0 and "one of them" in result.output


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 15, not solved: replayed (topics discovered period by period, the default), the "
    "trends are caught within a month for 3 of 5 (library, heat pumps, school meals); the "
    "chatbot and e-scooter trends 2 months after onset. Fitted once on the whole copy "
    "(--topics stored) the topic step splits each trend over 2-7 topics, one per templated "
    "opener, and none is caught within a month. Needs 'one theme as one topic' in the topic step."))
def test_planted_trends_end_to_end_with_the_nlp_stage(background, tmp_path):
    """The honest version: the NLP stage (passages, embeddings, UMAP + HDBSCAN) finds the
    topics, and the planted copy is replayed as a live radar would have seen it (topics
    discovered period by period, each period scored with what was known then).

    Strict: the topic step is deterministic (exact neighbours), so the day it passes the
    marker must go (issue 15's "one theme as one topic").

    At least 4 of 5 planted trends must be flagged within one period of onset, with at
    most one false alarm among the topics that match no planted trend.
    """
    pytest.importorskip("nlp.pipeline")
    plants, _ = read_plants(FIXTURES / "plants.csv")
    report = run_plant(background, plants, tmp_path / "plant", assign="nlp")
    assert "topics assigned by nlp, replay" in report.note
    assert report.topics_mode == "replay"
    detected = [e for e in report.events if e.detected]
    assert len(detected) >= 4, report.to_json()
    assert all(0 <= e.lag_periods <= 1 for e in detected)
    assert report.stable_topics >= 5  # the real comments formed topics of their own
    assert len(report.false_alarms) <= 1, report.false_alarms


def test_plant_replay_needs_the_nlp_stage(assigned, tmp_path):
    """Deterministic plant topics cannot be replayed (nothing to discover them from): a clear
    error, not a silent stored backtest."""
    plants, _ = read_plants(FIXTURES / "plants.csv")
    with pytest.raises(EventsFileError, match="needs the NLP stage"):
        run_plant(assigned, plants, tmp_path / "plant", assign="deterministic", topics="replay")
    cli = __import__("radar.app.cli", fromlist=["cli"]).cli
    args = ["backtest", "--plant", str(FIXTURES / "plants.csv"), "--assign", "deterministic",
            "--config", str(assigned.path), "--json", str(tmp_path / "b.json")]
    result = CliRunner().invoke(cli, [*args, "--topics", "replay"])
    assert result.exit_code != 0 and "needs the NLP stage" in result.output
    result = CliRunner().invoke(cli, args)  # auto: deterministic topics are stored
    assert result.exit_code == 0, result.output
    assert "topics assigned by deterministic, stored" in json.loads(
        (tmp_path / "b.json").read_text())["note"]


def test_backtest_without_topics_says_to_analyse_first(background):
    result = CliRunner().invoke(__import__("radar.app.cli", fromlist=["cli"]).cli,
                                ["backtest", str(FIXTURES / "events.csv")])
    assert result.exit_code == 2
    assert "run `radar analyze` first" in result.output
