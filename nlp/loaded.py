"""The models an analysis runs: spaCy pipelines and the embedding model, loaded on first
use, and kept loaded between the analyses of one long-running process (`radar serve`).

A fresh `radar analyze` loads them every time (spaCy's pipeline 0.45-0.6 s, the model
beside it in the embedding thread). `WarmModels` keeps them for the next run of the same
process: a scheduled 1% run of the development corpus takes 3.2-3.4 s instead of 3.7 s
(`bench/serve_runs.py`, docs/performance.md). It keeps them as long as

- the settings that shape them are unchanged (`model_key`: the spaCy pipelines, stop
  words, the embedder and its model and batch size); a changed setting loads afresh;
- spaCy's vocabulary has not grown by more than `MAX_NEW_LEXEMES` since loading. spaCy
  keeps every new word form it meets (its StringStore and lexemes only grow), so a
  service reading news for months would grow without bound; past the bound the pipeline
  is dropped and the next run loads it again. The dev corpus's 6,220 paragraphs add
  ~18,000 lexemes and ~25 MB, caches included.

The output does not depend on it: a warm pipeline gives the same terms, expectation marks
and vectors as a fresh one (tests/test_nlp_warm.py).
"""

from __future__ import annotations

import json
import logging

from nlp.cluster import make_analysis_embedder
from nlp.embedders import uses_torch
from nlp.onnx_embedder import default_cache_dir
from nlp.preprocess import Preprocessor
from radar.core.config import Config

log = logging.getLogger(__name__)

# Lexemes spaCy may add to a kept pipeline's vocabulary before it is loaded afresh.
MAX_NEW_LEXEMES = 100_000


class LazyEmbedder:
    """Loads the embedding model on first use only (a no-op run never loads it)."""

    def __init__(self, cfg: Config, embedder=None) -> None:
        self.cfg = cfg
        self._embedder = embedder

    def __call__(self):
        if self._embedder is None:
            a = self.cfg.analysis
            self._embedder = make_analysis_embedder(a.embedder, a.embedding_model,
                                                    a.embedding_batch_size, a.cluster)
        return self._embedder

    @property
    def loaded(self) -> bool:
        return self._embedder is not None


def default_preprocessor(cfg: Config) -> Preprocessor:
    """The configured spaCy pipelines (loaded per language on first use), their lemmatizer
    tables kept between runs in the model cache (`RADAR_MODEL_CACHE`; nlp/lemma_table.py)."""
    models = {"en": cfg.analysis.spacy_model, **cfg.analysis.spacy_models}
    return Preprocessor(models, stop_words=cfg.analysis.stop_words,
                        without_torch=not uses_torch(cfg.analysis.embedder),
                        tables_dir=default_cache_dir() / "spacy")


def model_key(cfg: Config) -> str:
    """The settings the loaded models depend on; another key means other models."""
    a = cfg.analysis
    return json.dumps([a.spacy_model, sorted(a.spacy_models.items()), sorted(a.stop_words),
                       a.embedder, a.embedding_model, a.embedding_batch_size, repr(a.cluster)],
                      default=str)


class WarmModels:
    """The preprocessor (spaCy) and embedder of the last analysis, for the next one."""

    def __init__(self, max_new_lexemes: int = MAX_NEW_LEXEMES) -> None:
        self.max_new_lexemes = max_new_lexemes
        self._key: str | None = None
        self._preprocessor: Preprocessor | None = None
        self._embedder: LazyEmbedder | None = None
        self.reloads = 0    # pipelines dropped for their vocabulary's growth

    def models(self, cfg: Config) -> tuple[Preprocessor, LazyEmbedder]:
        """The preprocessor and (lazy) embedder for `cfg`: the kept ones when the settings
        they depend on are the same, else new ones (loaded on first use)."""
        key = model_key(cfg)
        if key != self._key:
            self._key, self._preprocessor, self._embedder = key, None, None
        if self._preprocessor is None:
            self._preprocessor = default_preprocessor(cfg)
        if self._embedder is None:
            self._embedder = LazyEmbedder(cfg)
        return self._preprocessor, self._embedder

    def settle(self) -> None:
        """After a run: drop the spaCy pipelines once their vocabulary grew past the bound
        (the embedder holds no state that grows)."""
        pre = self._preprocessor
        if pre is not None and pre.vocabulary_growth() > self.max_new_lexemes:
            log.info("analysis: spaCy's vocabulary grew by %d lexemes since it was loaded; "
                     "loading it afresh next run", pre.vocabulary_growth())
            self._preprocessor = None
            self.reloads += 1

    def clear(self) -> None:
        """Forget every loaded model."""
        self._key, self._preprocessor, self._embedder = None, None, None
