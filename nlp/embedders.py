"""Which embedder `radar analyze` runs: `[analysis] embedder` = auto | onnx | onnx-int8 | torch.

All of them run the same configured model (`[analysis] embedding_model`) and
return vectors in the same space, so passages embedded by one are comparable
with passages embedded by another and switching does not re-embed anything.
"auto" is the default chosen from measured speed and detection quality on the
development corpus (docs/performance.md).
"""

from __future__ import annotations

from nlp.embeddings import Embedder, SentenceTransformerEmbedder
from nlp.onnx_embedder import OnnxEmbedder

EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch")
# int8 ONNX: ~0.3x the CPU of torch, vectors at cosine ~0.993 to torch's. On the dev backtest
# it found as many events as float32 ONNX (whose vectors equal torch's), 8 of 16, with as
# few false alarms; torch's own fit found 9: refits differ by about one event whatever the
# embedder (docs/performance.md). The default stays torch until backtests on more corpora
# show int8 detects as well: on the merged scoring, the planted-trend replay test found 2 of 5
# trends within one period with int8 and 3 or more with torch (docs/performance.md).
DEFAULT_EMBEDDER = "torch"


def resolve_embedder(kind: str) -> str:
    """The embedder "auto" stands for; other names unchanged."""
    return DEFAULT_EMBEDDER if kind == "auto" else kind


def uses_torch(kind: str) -> bool:
    """Whether the embedder imports torch (the ONNX ones do not, once exported)."""
    return resolve_embedder(kind) == "torch"


def make_embedder(kind: str, model: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> Embedder:
    """The embedder for `[analysis] embedder`; the model loads (and exports, once) here."""
    kind = resolve_embedder(kind)
    if kind == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if kind in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, quantized=kind == "onnx-int8", batch_size=batch_size)
    raise ValueError(f"unknown embedder {kind!r} (expected one of {', '.join(EMBEDDERS)})")
