"""Expectation matcher: does a passage voice a demand, wish or complaint about a missing service?

Rule-based, with spaCy's Matcher (over lemmas, lower-case forms and tags) and
DependencyMatcher (over the parse). The patterns live in a data file per
language, `nlp/data/expectations_<lang>.json`, so a language is added by adding
a file (and a spaCy pipeline for it). Two kinds of token pattern:

- direct patterns ("I wish", "we need", "why is there still no", "lack of")
  mark the passage on their own;
- candidate patterns (a modal like "should", an imperative-looking verb) only
  say the passage is worth parsing; the parser then runs on that passage alone
  and a dependency pattern must confirm (the modal is the auxiliary of a verb;
  the imperative verb is the sentence root with no subject).

Parsing only candidates keeps the full spaCy cost for a minority of passages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

MAX_PHRASE_WORDS = 12


@dataclass(frozen=True)
class ExpectationMatch:
    """Why a passage was marked: the rule's name and the phrase it matched."""

    rule: str
    phrase: str


def patterns_path(language: str) -> Path | None:
    """The pattern file shipped for `language`, or None when there is none."""
    entry = resources.files("nlp") / "data" / f"expectations_{language}.json"
    return Path(str(entry)) if entry.is_file() else None


def load_patterns(language: str, path: Path | None = None) -> dict[str, Any] | None:
    """Parsed pattern file for a language (or from `path`), None when the language has none."""
    path = path or patterns_path(language)
    if path is None:
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


class ExpectationMatcher:
    """Marks expectation passages in spaCy Docs of one language."""

    def __init__(self, nlp, patterns: dict[str, Any]) -> None:
        from spacy.matcher import DependencyMatcher, Matcher

        self.nlp = nlp
        self.direct = Matcher(nlp.vocab)
        self.candidates = Matcher(nlp.vocab)
        for name, spec in patterns.get("token_patterns", {}).items():
            target = self.candidates if spec.get("confirm") else self.direct
            target.add(name, spec["patterns"])
        self.dependency = DependencyMatcher(nlp.vocab)
        for name, pats in patterns.get("dependency_patterns", {}).items():
            self.dependency.add(name, pats)
        self.imperative_no_subject = bool(patterns.get("imperative_requires_no_subject", True))
        self.imperative_at_start = bool(patterns.get("imperative_at_sentence_start", True))
        self._parser = nlp.get_pipe("parser") if "parser" in nlp.component_names else None

    def direct_match(self, doc) -> ExpectationMatch | None:
        """The first direct pattern in a tagged (unparsed) Doc."""
        matches = self.direct(doc)
        if not matches:
            return None
        match_id, start, end = min(matches, key=lambda m: m[1])
        return ExpectationMatch(self.nlp.vocab.strings[match_id], _phrase(doc, start, end))

    def is_candidate(self, doc) -> bool:
        """Whether the Doc has a word that a dependency pattern could confirm."""
        return bool(self.candidates(doc))

    def confirm(self, docs: list) -> list[ExpectationMatch | None]:
        """Parse candidate Docs (in place) and run the dependency patterns on them."""
        if not docs or self._parser is None:
            return [None] * len(docs)
        parsed = list(self._parser.pipe(docs))
        return [self._dependency_match(doc) for doc in parsed]

    def _dependency_match(self, doc) -> ExpectationMatch | None:
        for match_id, token_ids in sorted(self.dependency(doc), key=lambda m: min(m[1])):
            name = self.nlp.vocab.strings[match_id]
            head = doc[token_ids[0]]
            if name == "CALL_FOR_CHANGE" and not self._is_imperative(head):
                continue
            start, end = _clause_span(head, token_ids)
            return ExpectationMatch(name, _phrase(doc, start, end))
        return None


    def _is_imperative(self, verb) -> bool:
        """A root verb with no subject (and no auxiliary) that opens its sentence."""
        if self.imperative_no_subject and (_has_subject(verb) or any(c.dep_ == "aux" for c in verb.children)):
            return False
        if not self.imperative_at_start:
            return True
        before = verb.doc[verb.sent.start : verb.i]
        return all(t.pos_ in ("ADV", "PUNCT", "INTJ", "CCONJ", "SPACE") for t in before)


def _has_subject(token) -> bool:
    return any(c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for c in token.children)


def _clause_span(head, token_ids: list[int]) -> tuple[int, int]:
    """From the first matched token to the end of the verb's object, bounded in words."""
    start = min([*token_ids, head.i])
    kinds = ("dobj", "attr", "xcomp", "prep", "ccomp", "oprd", "acomp")
    objects = [c for c in head.rights if c.dep_ in kinds]
    end = max(token_ids) + 1
    if objects:
        end = max(end, objects[0].right_edge.i + 1)
    start = min([start, *(c.i for c in head.lefts if c.dep_ in ("nsubj", "nsubjpass", "expl"))])
    return start, min(end, start + MAX_PHRASE_WORDS)


def _phrase(doc, start: int, end: int) -> str:
    """The matched words, extended to a readable span of at most MAX_PHRASE_WORDS words."""
    end = max(end, min(len(doc), start + 6))
    span = doc[start : min(end, start + MAX_PHRASE_WORDS)]
    return span.text.strip(" ,;:")
