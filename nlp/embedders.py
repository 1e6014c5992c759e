"""Which embedder `radar analyze` runs: `[analysis] embedder` = auto | onnx | onnx-int8 | torch | static.

All of them run the same configured model (`[analysis] embedding_model`). The
transformer ones (onnx, onnx-int8, torch) return vectors in the same space, so
passages embedded by one are comparable with passages embedded by another and
switching among them does not re-embed anything. "static" is the model's
model2vec distillation (nlp/static_embedder.py): another, smaller space, filed
under another key (`AnalysisConfig.vector_model`), so switching to or from it
re-embeds every passage and refits the topics.
"auto" is the default chosen from measured speed and detection quality on the
development corpus (docs/performance.md).
"""

from __future__ import annotations

from nlp.embeddings import Embedder, SentenceTransformerEmbedder
from nlp.onnx_embedder import OnnxEmbedder
from nlp.static_embedder import StaticEmbedder

EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch", "static")
# "auto" = float32 ONNX: the same vectors as torch (cosine >= 0.99999), so the same topics and
# detection, at about torch's speed (0.94x its CPU quiet, 0.69x under load) without importing
# torch at all (with spaCy loaded torch-free, ~300 MB less resident; docs/performance.md).
# int8 ONNX is ~0.4x float32's CPU but its vectors differ (cosine ~0.993 to torch's) and,
# its activations being quantised per batch, depend on which passages share a batch (cosine
# down to ~0.989 between batchings of the same texts); on the dev backtest and the planted
# replay it detected no better, sometimes worse, so it is an option (`embedder =
# "onnx-int8"`) for very large corpora, not the default.
# "static" (model2vec distillation) took 0.28x float32's CPU for a whole first analysis of the
# dev corpus (embedding 2.8 vs 263 CPU s) but flagged 4 of 15 onsets at onset against 9
# (docs/performance.md, "Static embedder"): an option for very large corpora, not the default.
DEFAULT_EMBEDDER = "onnx"


def resolve_embedder(kind: str) -> str:
    """The embedder "auto" stands for; other names unchanged."""
    return DEFAULT_EMBEDDER if kind == "auto" else kind


def uses_torch(kind: str) -> bool:
    """Whether the embedder imports torch (the ONNX and static ones do not, once made)."""
    return resolve_embedder(kind) == "torch"


def make_embedder(kind: str, model: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> Embedder:
    """The embedder for `[analysis] embedder`; the model loads (and exports, once) here."""
    kind = resolve_embedder(kind)
    if kind == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if kind in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, quantized=kind == "onnx-int8", batch_size=batch_size)
    if kind == "static":
        return StaticEmbedder(model)
    raise ValueError(f"unknown embedder {kind!r} (expected one of {', '.join(EMBEDDERS)})")
