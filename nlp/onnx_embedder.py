"""The sentence-transformers model run by ONNX Runtime, exported once, locally, into a cache.

Why: the torch forward pass is most of `radar analyze`. The same weights in
ONNX Runtime do the same arithmetic with less overhead, and the int8 variant
(weights of every MatMul quantised per output channel, activations quantised
on the fly) takes about half the CPU again. Cosine to the torch vectors and
detection quality are measured in docs/performance.md.

How:
- export: the packaged model (never a download) is loaded with transformers,
  wrapped with the model's own pooling (mean, CLS or max, as its
  `1_Pooling/config.json` says) and L2 normalisation, and written with
  `torch.onnx.export`; the int8 file is made from it with ONNX Runtime's
  dynamic quantiser. Both go into a cache folder keyed by the model's files, so
  the export happens once per machine and model (a few seconds, logged); a
  lock file keeps two processes from exporting at the same time. Export and
  quantisation run in a child process, so torch never stays in the analysis.
- run: the Rust `tokenizers` tokenizer truncates where sentence-transformers
  does (`max_seq_length`, 256 tokens for all-MiniLM-L6-v2), texts are sorted
  by length and batched so padding is minimal (long texts in smaller batches, so the
  attention tensors stay small: `token_batches`), and one batch runs per available
  core at a time, each on one thread. Neither torch nor transformers is imported to
  embed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from nlp.embeddings import resolve_model_path

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the exported graph changes
OPSET = 17


class OnnxExportError(RuntimeError):
    """The model could not be exported to ONNX (its layout is not one we know)."""


def default_cache_dir() -> Path:
    """`RADAR_MODEL_CACHE`, else `$XDG_CACHE_HOME/horizon-radar/models` (~/.cache/...)."""
    env = os.environ.get("RADAR_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "horizon-radar" / "models"


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def model_fingerprint(folder: Path) -> str:
    """Changes when the model's weights, config or tokenizer change."""
    h = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for name in sorted(os.listdir(folder)):
        p = folder / name
        if p.is_file():
            st = p.stat()
            h.update(f"{name}:{st.st_size}".encode())
            if st.st_size < 5_000_000:  # configs and tokenizer: by content
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _read_json(path: Path, default: dict) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def model_layout(folder: Path) -> dict:
    """Pooling, normalisation and max sequence length of a sentence-transformers folder."""
    modules = _read_json(folder / "modules.json", {})
    types = [m.get("type", "") for m in modules] if isinstance(modules, list) else []
    pooling_dir = next((m["path"] for m in modules if m.get("type", "").endswith("Pooling")),
                       "1_Pooling") if types else "1_Pooling"
    pool = _read_json(folder / pooling_dir / "config.json", {"pooling_mode_mean_tokens": True})
    modes = [m for m in ("mean", "cls", "max") if pool.get(f"pooling_mode_{m}_tokens")]
    if len(modes) != 1:
        raise OnnxExportError(f"{folder}: pooling {pool} is not one of mean, cls or max")
    unknown = [t for t in types if not t.endswith(("Transformer", "Pooling", "Normalize"))]
    if unknown:
        raise OnnxExportError(f"{folder}: modules {unknown} cannot be exported (use embedder = \"torch\")")
    st_cfg = _read_json(folder / "sentence_bert_config.json", {})
    hf_cfg = _read_json(folder / "config.json", {})
    max_len = int(st_cfg.get("max_seq_length") or hf_cfg.get("max_position_embeddings", 512))
    max_len = min(max_len, int(hf_cfg.get("max_position_embeddings", max_len)))
    return {"pooling": modes[0], "normalize": any(t.endswith("Normalize") for t in types) or not types,
            "max_seq_length": max_len, "dimension": int(hf_cfg.get("hidden_size", 0))}


def export_onnx(folder: Path, out: Path, layout: dict) -> None:
    """Write the model (transformer + pooling + normalisation) as ONNX to `out` (imports torch)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), local_files_only=True,
                                      attn_implementation="eager").eval()
    pooling, normalize = layout["pooling"], layout["normalize"]

    class Sentence(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            if pooling == "cls":
                v = h[:, 0]
            elif pooling == "max":
                v = (h + (mask - 1) * 1e9).max(dim=1).values
            else:
                v = (h * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, p=2, dim=1) if normalize else v

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0  # a padded row, so the mask is traced as data, not as a constant
    dynamic = {n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["embedding"] = {0: "batch"}
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow in HF code
        torch.onnx.export(Sentence(model), (ids, mask, torch.zeros_like(ids)), str(out),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding"], dynamic_axes=dynamic, opset_version=OPSET,
                          dynamo=False)


def quantize_int8(src: Path, out: Path) -> None:
    """int8 weights for every MatMul, per output channel (per-tensor int8 loses too much:
    cosine to the float model ~0.95 instead of ~0.994 on the dev passages)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a "consider pre-processing" hint on root
    try:
        quantize_dynamic(str(src), str(out), per_channel=True, op_types_to_quantize=["MatMul"],
                         weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def in_child(fn, *args) -> None:
    """Run `fn(*args)` in a fresh process: the export imports torch and transformers (~600 MB
    resident) that the analysis itself never needs again, so they must not stay in it."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(fn, *args).result()  # re-raises the child's exception here


def model_slug(folder: Path, name: str | None) -> str:
    """The model's name, safe as a folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", (name or folder.name).rsplit("/", 1)[-1])


def model_cache_dir(folder: Path, name: str | None, cache_dir: Path) -> Path:
    """The cache folder for what is derived from the model in `folder` (ONNX files, the
    static distillation): named after the model and keyed by its files."""
    return cache_dir / f"{model_slug(folder, name)}-{model_fingerprint(folder)}"


def ensure_onnx(folder: Path, quantized: bool, cache_dir: Path | None = None,
                name: str | None = None) -> tuple[Path, dict]:
    """The cached ONNX file for the model in `folder` (exported now if missing) and its layout."""
    layout = model_layout(folder)
    slug = model_slug(folder, name)
    target_dir = model_cache_dir(folder, name, cache_dir or default_cache_dir())
    name = "model-int8.onnx" if quantized else "model.onnx"
    target = target_dir / name
    if target.is_file():
        return target, layout
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be exporting the same model
        try:
            if target.is_file():
                return target, layout
            fp32 = target_dir / "model.onnx"
            if not fp32.is_file():
                log.warning("exporting embedding model %s to ONNX once, into %s (a few seconds; "
                            "later runs reuse it)", slug, target_dir)
                t0 = time.perf_counter()
                tmp = target_dir / f"model.onnx.{os.getpid()}.tmp"
                in_child(export_onnx, folder, tmp, layout)
                tmp.replace(fp32)
                log.warning("exported %s in %.1f s", fp32, time.perf_counter() - t0)
            if quantized:
                log.warning("quantising %s to int8 once", fp32)
                tmp = target_dir / f"model-int8.onnx.{os.getpid()}.tmp"
                in_child(quantize_int8, fp32, tmp)
                tmp.replace(target)
            (target_dir / "layout.json").write_text(json.dumps(layout), encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target, layout


# Rows x tokens^2 per batch: the attention scores (rows x heads x tokens x tokens floats) are
# the model's largest tensors. 16 passages of 256 tokens: peak RSS 323 MB instead of 526 MB
# with 64 (int8, 800 dev paragraphs) at the same CPU time; 8 with the arena shrunk after each
# run (below) keeps the process at ~310 MB instead of ~600 MB after 1,200 dev paragraphs
# embedded beside spaCy. Short texts still batch by 64.
ATTENTION_BUDGET = 8 * 256 * 256


def token_batches(sorted_lengths: np.ndarray, batch_size: int, budget: int = ATTENTION_BUDGET):
    """Slices of positions in ascending `sorted_lengths`: at most `batch_size` rows and at
    most `budget` rows x longest^2 (at least one row) each."""
    start, n = 0, len(sorted_lengths)
    while start < n:
        end = start + 1
        while (end < n and end - start < batch_size
               and (end - start + 1) * int(sorted_lengths[end]) ** 2 <= budget):
            end += 1
        yield slice(start, end)
        start = end


class TokenBatcher:
    """How the ONNX embedder cuts texts into batches: by token count, shortest first,
    bounded by `token_batches`. Also plans the chunks a cluster's workers embed
    (nlp/cluster.py): a run of whole batches, given in this order, is batched the same."""

    def __init__(self, model: str, batch_size: int, max_seq_length: int | None = None):
        from tokenizers import Tokenizer

        folder = resolve_model_path(model)
        self.batch_size = max(1, batch_size)
        self.attention_budget = ATTENTION_BUDGET
        self.max_seq_length = max_seq_length or model_layout(folder)["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # we pad per batch, to the batch's longest text
        self.tokenizer.enable_truncation(self.max_seq_length)

    def plan(self, texts: Sequence[str]) -> tuple[list, np.ndarray, list[np.ndarray]]:
        """(token encodings, token counts, the batches as arrays of text positions)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
        return encodings, lengths, [order[part] for part in token_batches(
            lengths[order], self.batch_size, self.attention_budget)]


# How much lower the model's worker threads run than the rest of the process (Linux nice).
WORKER_NICENESS = 5


def lower_priority(niceness: int = WORKER_NICENESS) -> None:
    """Lower the calling thread's scheduling priority (Linux; elsewhere nothing).

    In `radar analyze` spaCy lemmatises a batch in the main thread while the model embeds
    it in `threads` workers: three busy threads on two cores, where spaCy, the longer of
    the two, got two thirds of a core (its wall 1.3x its CPU). With the workers a little
    lower, spaCy keeps a whole core and the model takes the rest, all of both cores once
    spaCy is done with its batch; nothing changes when the model runs alone."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       min(19, os.getpriority(os.PRIO_PROCESS, 0) + niceness))
    except (AttributeError, OSError):  # no per-thread priority here: run as is
        pass


def rows_per_run(quantized: bool, batch_size: int) -> int:
    """Texts per ONNX Runtime run: one for int8, whose dynamic quantisation scales a run's
    activations by one factor (with several texts in a run, a text's vector depended on its
    neighbours: cosine down to 0.983 between two batchings of the same dev paragraphs; alone,
    1.0, and 0.994 to torch's on average instead of 0.993), at the same CPU; `batch_size`
    for float32, whose vectors do not depend on their batch."""
    return 1 if quantized else max(1, batch_size)


class OnnxEmbedder:
    """A sentence-transformers model in ONNX Runtime (float32, or int8 with `quantized`)."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", *, quantized: bool = False,
                 batch_size: int = 32, threads: int | None = None, cache_dir: Path | None = None):
        import onnxruntime as ort

        folder = resolve_model_path(model)
        path, layout = ensure_onnx(folder, quantized, cache_dir, name=model)
        self.name = model
        self.path = path
        self.batcher = TokenBatcher(model, rows_per_run(quantized, batch_size), layout["max_seq_length"])
        self.batch_size = self.batcher.batch_size
        self.max_seq_length = self.batcher.max_seq_length
        self.tokenizer = self.batcher.tokenizer
        opts = ort.SessionOptions()
        # One thread inside each run, one run per core at a time (`encode`): a run of one text
        # is too small to split well across cores (int8, 800 dev paragraphs: 1.66 cores busy
        # with two threads inside the run), and two threads per run beside spaCy's thread
        # (nlp/pipeline.py) kept three busy threads on two cores, whose waits for each other
        # cost a quarter more CPU.
        self.threads = max(1, threads or available_cores())
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        # Batches of several texts (float32): give the arena's memory back after each batch
        # instead of keeping its high-water mark for the rest of the analysis (the topic fit
        # runs after the embedding). One text per run (int8): the arena never holds more
        # than one text of at most max_seq_length tokens (a few MB), and shrinking it after
        # every run cost more CPU (1,000 dev paragraphs, alternated: one thread 7.9-8.3 ->
        # 8.5-8.6 CPU s, two threads 6.7-7.0 -> 6.9-7.1; identical vectors), so it is kept.
        self._run_options = ort.RunOptions()
        if self.batch_size > 1:
            self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1] or layout["dimension"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors, one per text, in the order given. The batches run
        `threads` at a time (ONNX Runtime releases the GIL); each batch's vectors are the
        same whichever thread runs it."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings, lengths, batches = self.batcher.plan(texts)

        def run(rows: np.ndarray) -> None:
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                n = lengths[i]
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs},
                                         self._run_options)[0]

        if self.threads == 1 or len(batches) == 1:
            for rows in batches:
                run(rows)
        else:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="onnx",
                                    initializer=lower_priority) as pool:
                for _ in pool.map(run, batches):  # re-raises a batch's error here
                    pass
        return out
