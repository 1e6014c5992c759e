"""Lighter imports of spaCy, for the analysis (nlp/preprocess.py) and for redaction
(radar/core/pii.py): without torch when no pipeline needs it, without spaCy's commands.

thinc, under spaCy, imports torch whenever torch is installed (the torch embedder needs it),
only to offer torch layers the CNN pipelines never use; Presidio imports transformers, which
imports torch too. In a process that never embeds with torch (a crawl, an import, a privacy
worker, an analysis with an ONNX embedder) that costs seconds and ~300 MB (docs/performance.md).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

# Distributions whose pipelines run on torch: with one of them torch must stay importable.
_TORCH_PIPELINE_DEPS = ("spacy-transformers", "spacy-curated-transformers", "torch")


def pipeline_needs_torch(model: str) -> bool:
    """True when the spaCy pipeline package `model` depends on torch (or is not a package we
    can inspect, e.g. a folder: then we do not guess)."""
    try:
        requires = importlib.metadata.requires(model) or []
    except importlib.metadata.PackageNotFoundError:
        return True
    names = {re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requires}
    return any(dep in names for dep in _TORCH_PIPELINE_DEPS)


@contextmanager
def torch_hidden(hide: bool = True) -> Iterator[None]:
    """Import and load spaCy without torch (~300 MB resident) when nothing in the process needs it.

    thinc (under spaCy) imports torch whenever it is installed, only to offer torch layers the
    CNN pipelines never use. While this block runs `import torch` fails, so thinc falls back to
    numpy; afterwards torch is importable again. transformers, imported meanwhile by a spaCy
    plugin's entry point (Presidio's), caches "no torch" at import: its modules are dropped
    afterwards so that a later import (the torch embedder) finds torch. Does nothing when torch,
    thinc or transformers is already imported (transformers, imported with torch importable,
    has settled that torch is there; its modules imported inside the block could then fail).
    """
    if not hide or any(name in sys.modules for name in ("torch", "thinc", "transformers")):
        yield
        return
    before = set(sys.modules)
    advisory = os.environ.get("TRANSFORMERS_NO_ADVISORY_WARNINGS")
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"  # its "PyTorch was not found" notice
    sys.modules["torch"] = None  # type: ignore[assignment]  # import torch -> ImportError
    try:
        yield
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
        for name in set(sys.modules) - before:
            if name.split(".", 1)[0] == "transformers":
                del sys.modules[name]
        if advisory is None:
            os.environ.pop("TRANSFORMERS_NO_ADVISORY_WARNINGS", None)
        else:
            os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = advisory


@contextmanager
def cli_deferred() -> Iterator[None]:
    """Import spaCy without its command-line modules.

    spaCy's `__init__` imports `spacy.cli.info` (for `spacy.info`), and with it every spaCy
    command (download, project assets: typer, weasel, requests, httpx), paid by every
    `radar analyze` for commands it never runs (importing and loading spaCy's pipeline
    took 0.72-0.85 s with them, 0.59-0.61 s without; docs/performance.md). While
    this block imports spaCy, `spacy.cli` is a stand-in whose `info` imports the real one
    when called; afterwards the stand-in is gone, so a later `import spacy.cli` imports the
    real package. Does nothing when spaCy is already imported.
    """
    if "spacy" in sys.modules:
        yield
        return
    package = types.ModuleType("spacy.cli")
    package.__path__ = []  # a package, so `spacy.cli.info` can be found under it
    module = types.ModuleType("spacy.cli.info")

    def info(*args, **kwargs):
        from spacy.cli.info import info as real  # the real package, once the block is over

        return real(*args, **kwargs)

    module.info = info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"], sys.modules["spacy.cli.info"] = package, module
    try:
        yield
    finally:
        for name, stand_in in (("spacy.cli.info", module), ("spacy.cli", package)):
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        spacy = sys.modules.get("spacy")
        if spacy is not None and getattr(spacy, "cli", None) is package:
            delattr(spacy, "cli")
