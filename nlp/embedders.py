"""Which embedder `radar analyze` runs: `[analysis] embedder` = auto | onnx | onnx-int8 | torch | static.

All of them run the same configured model (`[analysis] embedding_model`). The
transformer ones (onnx, onnx-int8, torch) return vectors in the same space, so
passages embedded by one are comparable with passages embedded by another and
switching among them does not re-embed anything. "static" is the model's
model2vec distillation (nlp/static_embedder.py): another, smaller space, filed
under another key (`AnalysisConfig.vector_model`), so switching to or from it
re-embeds every passage and refits the topics.
"auto" is the default chosen from measured speed and detection quality on the
development corpus (docs/performance.md): int8 ONNX where the CPU multiplies int8
natively, float32 ONNX elsewhere.
"""

from __future__ import annotations

from nlp.embeddings import Embedder, SentenceTransformerEmbedder
from nlp.onnx_embedder import OnnxEmbedder
from nlp.static_embedder import StaticEmbedder

EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch", "static")
# "auto" = int8 ONNX on a CPU with native int8 dot products (VNNI: AVX-512 or AVX, or AMX),
# float32 ONNX on any other. Measured on the dev corpus (docs/performance.md, "int8 where the
# CPU has VNNI"): on an AVX-512 VNNI CPU int8 takes 0.32x torch's wall for the same
# passages, and the whole first analysis took 85 s against float32's 163 s (0.78x the bare
# torch encode instead of 1.48x), detecting as well (10 of 15 onsets at onset with either);
# on an AVX2 CPU without VNNI int8 is no faster than float32 ("int8 on a quiet machine"), so
# there float32 it is: torch's vectors (cosine >= 0.99999) without importing torch.
# int8 embeds one text per run (`OnnxEmbedder`): ONNX Runtime quantises activations with one
# scale per run, so a text's vector would otherwise depend on the texts batched with it.
# Its vectors are in torch's space (cosine ~0.994 to torch's), so the transformer embedders
# share stored vectors and switching among them re-embeds nothing.
# "static" (model2vec distillation) took 0.28x float32's CPU for a whole first analysis of the
# dev corpus (embedding 2.8 vs 263 CPU s) but flagged 4 of 15 onsets at onset against 9
# (docs/performance.md, "Static embedder"): an option for very large corpora, not the default.
INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty where there is no /proc/cpuinfo)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def default_embedder(flags: frozenset[str] | set[str]) -> str:
    """What "auto" runs on a CPU with these feature flags (pure: tested without the CPU)."""
    return "onnx-int8" if INT8_FLAGS & set(flags) else "onnx"


def resolve_embedder(kind: str, flags: frozenset[str] | None = None) -> str:
    """The embedder "auto" stands for on this machine (or on a CPU with `flags`); other
    names unchanged."""
    if kind != "auto":
        return kind
    return default_embedder(cpu_flags() if flags is None else flags)


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
