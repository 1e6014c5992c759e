"""A static (model2vec) version of the sentence-transformers model, distilled once, locally.

Why: for very large corpora the transformer's forward pass is most of `radar
analyze`. A static model looks every token up in a table and averages: no
attention, no matrix products per text, hundreds of times the transformer's
speed; its vectors are a coarser summary of the text (word order is lost), so
whether it finds the same topics is measured (docs/performance.md), not assumed.

How:
- distil: model2vec's `distill` (the model2vec method: every token of the
  model's vocabulary through the installed model, mean-pooled outputs, PCA to
  `STATIC_DIMENSION` dimensions, Zipf/SIF weighting by token rank) runs on the
  packaged model (never a download) in a child process, so torch and
  transformers never stay in the analysis. The result is saved in model2vec's
  folder format into the same cache as the ONNX export
  (`$RADAR_MODEL_CACHE/<model>-<fingerprint>/static-<dims>`), once per
  machine and model, under the export's lock; later runs load it in a moment.
- run: `model2vec.StaticModel` (numpy + the Rust tokenizer, no torch) on the
  whole text (no truncation), one text at a time in effect, so a text's vector
  does not depend on which texts share its batch.

The vectors have `STATIC_DIMENSION` dimensions and live in another space than
the transformer's: `[analysis] vector_model` files them under another key, so
switching to or from "static" re-embeds every passage and refits the topics
rather than comparing vectors of two spaces.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp.embeddings import resolve_model_path
from nlp.onnx_embedder import default_cache_dir, in_child, model_cache_dir

log = logging.getLogger(__name__)

STATIC_DIMENSION = 256  # model2vec's default PCA size
STATIC_VERSION = 1  # bump when the distillation changes


UNUSED_TOKENS = r"\[unused\d+\]"  # model2vec's default: BERT's placeholder tokens are dropped


def removal_pattern(folder: Path, max_tokens: int | None) -> str:
    """model2vec's `token_remove_pattern`: the unused placeholders and, with `max_tokens`,
    every token from that rank on (the vocabulary is in frequency order) except single
    characters (with or without "##"), so that every word can still be tokenised."""
    if not max_tokens:
        return UNUSED_TOKENS
    vocab = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    keep = sorted((t for t, i in vocab.items() if i < max_tokens), key=len, reverse=True)
    return (f"{UNUSED_TOKENS}|(?!(?:{'|'.join(re.escape(t) for t in keep)})$)(?!(?:##)?.$)")


def distill_static(folder: Path, out: Path, dims: int, max_tokens: int | None = None) -> None:
    """Distil the sentence-transformers model in `folder` with model2vec into `out` (imports
    torch and transformers: run it in a child process). `max_tokens` keeps only the most
    frequent tokens (and every single character): a smaller, quicker, coarser model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from model2vec.distill import distill

    model = distill(str(folder), pca_dims=dims, device="cpu",
                    token_remove_pattern=removal_pattern(folder, max_tokens))
    model.save_pretrained(str(out))
    meta = {"version": STATIC_VERSION, "dimension": int(model.embedding.shape[1]),
            "vocabulary": int(model.embedding.shape[0]), "max_tokens": max_tokens,
            "source": folder.name}
    (out / "radar_static.json").write_text(json.dumps(meta), encoding="utf-8")


def folder_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def ensure_static(model: str, dims: int = STATIC_DIMENSION, cache_dir: Path | None = None,
                  max_tokens: int | None = None) -> Path:
    """The cached static model for `model` (distilled now if missing): a model2vec folder."""
    folder = resolve_model_path(model)
    target_dir = model_cache_dir(folder, model, cache_dir or default_cache_dir())
    target = target_dir / (f"static-{dims}" + (f"-top{max_tokens}" if max_tokens else ""))
    if (target / "radar_static.json").is_file():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be distilling (or exporting)
        try:
            if (target / "radar_static.json").is_file():
                return target
            log.warning("distilling a static (model2vec) version of %s once, into %s (a few "
                        "minutes on 2 cores; later runs reuse it)", model, target)
            t0 = time.perf_counter()
            tmp = target_dir / f"{target.name}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            in_child(distill_static, folder, tmp, dims, max_tokens)
            shutil.rmtree(target, ignore_errors=True)
            tmp.replace(target)
            log.warning("distilled %s in %.1f s (%.1f MB)", target, time.perf_counter() - t0,
                        folder_size_mb(target))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


class StaticEmbedder:
    """The model2vec distillation of a sentence-transformers model; same `encode` as the others."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 1024,
                 cache_dir: Path | None = None, dims: int = STATIC_DIMENSION,
                 max_tokens: int | None = None):
        from model2vec import StaticModel

        self.name = model
        self.path = ensure_static(model, dims, cache_dir, max_tokens)
        self.batch_size = max(1, batch_size)
        self.model = StaticModel.from_pretrained(str(self.path), normalize=True, max_length=None)
        self.dimension = int(self.model.embedding.shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one per text (all zero for a text with no known token)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not len(texts):
            return out
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, max_length=None,
                                    use_multiprocessing=False, show_progress_bar=False)
        out[:] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
