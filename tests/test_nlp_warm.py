"""Warm models (nlp/loaded.py): a long-running process (`radar serve`) keeps spaCy and the
embedding model loaded between analyses, with the same output as freshly loaded ones; a
changed setting loads them afresh, and so does spaCy's vocabulary growing past the bound.

Real spaCy pipeline and the configured embedding model; too few passages for a topic fit,
so no UMAP."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from test_nlp_ruler_table import real_texts

from nlp.loaded import WarmModels, model_key
from nlp.pipeline import analyze
from radar.app.init_project import init_project
from radar.app.serve import Service
from radar.core import warehouse
from radar.core.config import load_config
from radar.core.documents import content_hash


@pytest.fixture(scope="module")
def texts():
    return real_texts(12, 12)


def _project(folder, extra: str = ""):
    folder.mkdir()
    cfg_path = folder / "radar.toml"
    cfg_path.write_text('[analysis]\nperiod = "month"\nmin_topic_size = 50\n' + extra, encoding="utf-8")
    init_project(cfg_path)
    return load_config(cfg_path)


def _add(cfg, texts: list[str], first: int) -> None:
    ids = [f"doc{first + i}" for i in range(len(texts))]
    docs = pa.table({  # noqa: F841 (used by SQL)
        "doc_id": ids, "text": texts, "fetched_at": [datetime(2024, 3, 1)] * len(texts),
        "source": [f"site{i % 5}" for i in range(len(texts))], "channel": ["news"] * len(texts),
        "language": ["en"] * len(texts), "content_hash": [content_hash(t) for t in texts]})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")


def _passages(cfg):
    rows = warehouse.query(cfg.warehouse_path, "SELECT passage_id, terms, is_expectation, "
                                               "expectation_phrase, e.vector FROM passages "
                                               "JOIN passage_embeddings e USING (passage_id) "
                                               "ORDER BY passage_id")
    return [r[:4] for r in rows], np.array([r[4] for r in rows], dtype=np.float32)


def test_kept_models_serve_the_next_run_with_the_output_of_fresh_ones(tmp_path, texts):
    warm = WarmModels()
    kept, fresh = _project(tmp_path / "kept"), _project(tmp_path / "fresh")
    for cfg in (kept, fresh):
        _add(cfg, texts[:12], 0)
    assert analyze(kept, warm=warm).new_documents == 12
    pre, embedder = warm.models(kept)
    assert "en" in pre._loaded and embedder.loaded  # loaded by the first run, and kept
    nlp, model = pre._loaded["en"][0], embedder()

    for cfg in (kept, fresh):
        _add(cfg, texts[12:], 12)
    s = analyze(kept, warm=warm)
    assert (s.new_documents, s.embedded) == (12, 12)
    again, embedder_again = warm.models(kept)
    assert again is pre and again._loaded["en"][0] is nlp and embedder_again() is model
    assert warm.reloads == 0

    analyze(fresh)  # each run loads its own models
    analyze(fresh)
    (kept_rows, kept_vectors), (fresh_rows, fresh_vectors) = _passages(kept), _passages(fresh)
    assert len(kept_rows) >= 24 and kept_rows == fresh_rows
    assert any(r[2] for r in kept_rows)  # some expectation passages among the comments
    assert np.allclose(kept_vectors, fresh_vectors, atol=1e-5)


def test_a_changed_setting_loads_the_models_afresh(tmp_path):
    one = _project(tmp_path / "one")
    same = _project(tmp_path / "same")
    other = _project(tmp_path / "other", 'stop_words = ["city"]\n')
    warm = WarmModels()
    pre, embedder = warm.models(one)
    assert model_key(one) == model_key(same) and warm.models(same) == (pre, embedder)
    assert model_key(other) != model_key(one)
    pre_other, embedder_other = warm.models(other)
    assert pre_other is not pre and embedder_other is not embedder
    assert pre_other.stop_words == {"city"}
    warm.clear()
    assert warm.models(other)[0] is not pre_other


def test_spacy_is_loaded_afresh_once_its_vocabulary_grew_past_the_bound(tmp_path, texts):
    cfg = _project(tmp_path / "p")
    warm = WarmModels(max_new_lexemes=400)
    pre, embedder = warm.models(cfg)
    assert pre.vocabulary_growth() == 0  # nothing loaded yet
    pre.process(["The buses are late."], ["en"])
    grown = pre.vocabulary_growth()
    assert 0 < grown <= 400
    warm.settle()
    assert warm.models(cfg)[0] is pre and warm.reloads == 0
    pre.process(texts, ["en"] * len(texts))  # 24 paragraphs and comments: many new words
    assert pre.vocabulary_growth() > 400
    warm.settle()
    new_pre, same_embedder = warm.models(cfg)
    assert new_pre is not pre and same_embedder is embedder and warm.reloads == 1
    assert new_pre.vocabulary_growth() == 0


def test_serve_keeps_the_models_between_scheduled_runs(tmp_path, texts):
    cfg = _project(tmp_path / "svc", '[schedule]\nrun = "0 3 * * *"\nstages = ["analyze"]\n')
    service = Service(cfg, dashboard=False)
    _add(cfg, texts[:6], 0)
    assert service.run_once().exit_code == 0
    pre, embedder = service.models.models(cfg)
    nlp, model = pre._loaded["en"][0], embedder()
    _add(cfg, texts[6:12], 6)
    summary = service.run_once()
    assert summary.exit_code == 0 and "6 new passages" in summary.stage("analyze").detail
    again, embedder_again = service.models.models(cfg)
    assert again._loaded["en"][0] is nlp and embedder_again() is model
