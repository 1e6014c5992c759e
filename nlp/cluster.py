"""Embedding on a Dask cluster: `[analysis] cluster = "tcp://scheduler:8786"`.

The embedding model is the costliest step of `radar analyze`; with a cluster
configured it runs on the cluster's workers instead of in the analyzing
process. Everything else (spaCy, topics, series, scoring) stays where it was:
the workers only turn texts into vectors, so they need the project and the
model package installed, never the warehouse.

Results are identical to a single-machine run. The texts of one call are cut
into the batches the local embedder would run (`local_batches`: torch by
character length, ONNX by token count) and the batches into chunks, so every
worker runs exactly the local batches; padding, and therefore every float, comes
out the same (int8 runs one text at a time anyway)
(tests/test_nlp_cluster.py checks it bit for bit for torch and ONNX). A worker
that dies takes its chunk back to the scheduler, which gives it to another worker.

`distributed` is imported only when a cluster is configured.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence

import numpy as np

from nlp.embedders import make_embedder, resolve_embedder
from nlp.embeddings import batch_order
from nlp.onnx_embedder import TokenBatcher, rows_per_run

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 20.0     # seconds to reach the scheduler
WORKER_WAIT = 60.0         # seconds to wait for at least one worker
CHUNKS_PER_WORKER = 2      # chunks per worker per call: a slow worker does not hold up the rest

# One loaded embedder per worker process, keyed by (kind, model, batch size).
_LOADED: dict[tuple[str, str, int], object] = {}
_LOCK = threading.Lock()


class ClusterUnavailable(RuntimeError):
    """The configured Dask scheduler cannot be reached or has no workers."""


def _worker_embedder(spec: tuple[str, str, int]):
    with _LOCK:
        if spec not in _LOADED:
            _LOADED[spec] = make_embedder(*spec)
        return _LOADED[spec]


def encode_chunk(spec: tuple[str, str, int], texts: list[str]) -> tuple[str, np.ndarray]:
    """Run on a worker: (the worker's address, the vectors of `texts`)."""
    from distributed import get_worker

    try:
        where = get_worker().address
    except ValueError:  # called outside a worker (tests of the plan)
        where = "local"
    return where, _worker_embedder(spec).encode(texts)


def embedding_dimension(spec: tuple[str, str, int]) -> int:
    """Run on a worker: the model's vector size."""
    return int(_worker_embedder(spec).dimension)


def local_batches(kind: str, model: str, batch_size: int, texts: Sequence[str]) -> list[np.ndarray]:
    """The batches (arrays of text positions, in running order) the local embedder
    `kind` would cut `texts` into: torch by character length (`batch_order`), ONNX by
    token count (`TokenBatcher`, which needs only the model's tokenizer here); static
    vectors do not depend on their batch, so any cut will do: runs of 1,024 in order."""
    kind = resolve_embedder(kind)
    if kind == "static":
        return [np.arange(i, min(i + 1024, len(texts))) for i in range(0, len(texts), 1024)]
    if kind == "torch":
        order = batch_order(texts)
        return [order[i:i + batch_size] for i in range(0, len(order), max(1, batch_size))]
    return TokenBatcher(model, rows_per_run(kind == "onnx-int8", batch_size)).plan(texts)[2]


def plan_chunks(batches: list[np.ndarray], workers: int) -> list[np.ndarray]:
    """Consecutive whole batches joined into about CHUNKS_PER_WORKER chunks per worker.

    A worker given a chunk's texts in this order batches them exactly as the local
    embedder would have (both sort stably, and each chunk starts and ends on a batch
    boundary). Pure: tested without a cluster."""
    if not batches:
        return []
    per_chunk = max(1, math.ceil(len(batches) / max(1, workers * CHUNKS_PER_WORKER)))
    return [np.concatenate(batches[i:i + per_chunk]) for i in range(0, len(batches), per_chunk)]


_CLIENTS: dict[str, object] = {}   # one client per scheduler per process, reused by every run


def _client(client_class, address: str):
    client = _CLIENTS.get(address)
    if client is not None and client.status == "running":
        return client
    try:
        client = client_class(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(
            f"cannot reach the Dask scheduler at {address} ([analysis] cluster): {exc}; "
            "start one with `dask scheduler` and workers with `dask worker ADDRESS`, or "
            "remove the setting to embed on this machine") from exc
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} has no workers after {WORKER_WAIT:g}s; "
            "start some with `dask worker ADDRESS`") from exc
    _CLIENTS[address] = client
    return client


class ClusterEmbedder:
    """The configured embedder, run on a Dask cluster's workers; same one method, `encode`."""

    def __init__(self, address: str, kind: str, model: str = "all-MiniLM-L6-v2",
                 batch_size: int = 64) -> None:
        from distributed import Client  # only with a cluster configured: ~1 s to import
        self.address = address
        # "auto" is resolved here, so every worker runs what this machine would, whatever its CPU.
        self.spec = (resolve_embedder(kind), model, batch_size)
        self.name = model
        self.batch_size = batch_size
        self.last_workers: dict[str, int] = {}   # worker address -> texts embedded, last call
        self.client = _client(Client, address)
        self.dimension = int(self.client.submit(embedding_dimension, self.spec, pure=False).result())

    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors, one per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        kind, model, batch_size = self.spec
        chunks = plan_chunks(local_batches(kind, model, batch_size, texts), self.workers())
        if not chunks:
            return out
        futures = [self.client.submit(encode_chunk, self.spec, [texts[i] for i in idx],
                                      pure=False, retries=2) for idx in chunks]
        self.last_workers = {}
        for idx, (where, vectors) in zip(chunks, self.client.gather(futures), strict=True):
            out[idx] = vectors
            self.last_workers[where] = self.last_workers.get(where, 0) + len(idx)
        log.info("embedded %d texts on %d cluster workers", len(texts), len(self.last_workers))
        return out


def make_analysis_embedder(kind: str, model: str, batch_size: int, cluster: str = ""):
    """The embedder `radar analyze` uses: on the cluster when one is configured."""
    if cluster:
        return ClusterEmbedder(cluster, kind, model, batch_size)
    return make_embedder(kind, model, batch_size)
