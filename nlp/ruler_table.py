"""spaCy's attribute ruler, matched through a table of token types: the same annotations, faster.

The English pipeline's attribute ruler (tag -> part of speech, morphology and lemma
exceptions) holds ~180 patterns, almost all of one token. spaCy's Matcher tries every
pattern at every token, which made the ruler a fifth of the analysis's spaCy time
(1.6 of ~8 CPU s per 1,000 UN paragraphs) though the tagger before it costs 0.07 s.

A one-token pattern's outcome depends only on the token's form, tag and dependency label.
`TableMatch` evaluates the patterns once per distinct (form, tag, label) seen, keeps the
result in a table, and for each token of a Doc looks it up; fixed-length patterns of
several tokens are checked from the table's per-position results. It returns the matches
the ruler's own `match` would (same ids, same order), and the ruler sets the attributes
as before: the annotations are identical (tested on real paragraphs and comments).

Only what the shipped rulers use is understood: the keys ORTH, LOWER, TAG, DEP and
IS_SPACE, with a value or IN / NOT_IN / REGEX. A ruler with anything else (operators,
other attributes, extensions) keeps spaCy's matcher: `install` returns False.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TABLE_LIMIT = 200_000  # distinct (form, tag, label) kept; the table starts afresh beyond it

_STRING_KEYS = ("ORTH", "LOWER", "TAG", "DEP")
_KEYS = frozenset({*_STRING_KEYS, "IS_SPACE"})


class Unsupported(ValueError):
    """A ruler pattern this table cannot evaluate exactly."""


def _predicate(key: str, value) -> Callable[[dict], bool]:
    """One key of a token pattern, as a test of a token type's attributes."""
    if key not in _KEYS:
        raise Unsupported(f"attribute {key!r}")
    if key == "IS_SPACE":
        if not isinstance(value, bool):
            raise Unsupported(f"IS_SPACE {value!r}")
        return lambda t: t["IS_SPACE"] is value
    if isinstance(value, str):
        return lambda t: t[key] == value
    if isinstance(value, dict) and len(value) == 1:
        (op, arg), = value.items()
        if op == "IN" and isinstance(arg, list):
            members = frozenset(arg)
            return lambda t: t[key] in members
        if op == "NOT_IN" and isinstance(arg, list):
            members = frozenset(arg)
            return lambda t: t[key] not in members
        if op == "REGEX" and isinstance(arg, str):
            pattern = re.compile(arg)  # spaCy's REGEX searches the attribute's string
            return lambda t: pattern.search(t[key]) is not None
    raise Unsupported(f"{key} {value!r}")


def _anchor(spec: dict) -> list[tuple[str, str]] | None:
    """The (attribute, value) pairs of which a token must have one to match `spec` (the most
    selective equality or IN of its keys), or None when it has none (NOT_IN, REGEX, IS_SPACE)."""
    for key in _STRING_KEYS:  # ordered from the most selective
        value = spec.get(key)
        if isinstance(value, str):
            return [(key, value)]
        if isinstance(value, dict) and isinstance(value.get("IN"), list) and len(value) == 1:
            return [(key, v) for v in value["IN"] if isinstance(v, str)]
    return None


class _Specs:
    """Every token pattern of the ruler, indexed by anchor so that a token type is tested only
    against the patterns it could match."""

    def __init__(self) -> None:
        self.tests: list[list[Callable[[dict], bool]]] = []
        self.by_anchor: dict[tuple[str, str], list[int]] = {}
        self.unanchored: list[int] = []

    def add(self, spec: dict) -> int:
        if not spec:
            raise Unsupported("a token pattern without attributes")
        tests = [_predicate(k, v) for k, v in spec.items()]
        number = len(self.tests)
        self.tests.append(tests)
        anchor = _anchor(spec)
        if anchor is None:
            self.unanchored.append(number)
        for pair in anchor or ():
            self.by_anchor.setdefault(pair, []).append(number)
        return number

    def matching(self, token: dict) -> set[int]:
        """The numbers of the token patterns that `token` matches."""
        candidates = set(self.unanchored)
        for key in _STRING_KEYS:
            candidates.update(self.by_anchor.get((key, token[key]), ()))
        return {n for n in candidates if all(test(token) for test in self.tests[n])}


class TableMatch:
    """Drop-in for `AttributeRuler.match`: [(pattern number, match id, start, end)], sorted."""

    def __init__(self, ruler) -> None:
        self.vocab = ruler.vocab
        self.specs = _Specs()
        self.singles: dict[int, tuple[int, int]] = {}                 # spec -> (number, id)
        self.multis: list[tuple[int, int, list[int]]] = []            # (number, id, specs)
        self.starts: dict[int, list[int]] = {}                        # first spec -> multis
        for number, entry in enumerate(ruler.patterns):
            match_id = self.vocab.strings.add(str(number))  # the ruler's key for its pattern
            for pattern in entry["patterns"]:
                if not pattern:
                    raise Unsupported("an empty pattern")
                specs = [self.specs.add(spec) for spec in pattern]
                if len(specs) == 1:
                    self.singles[specs[0]] = (number, match_id)
                else:
                    self.starts.setdefault(specs[0], []).append(len(self.multis))
                    self.multis.append((number, match_id, specs))
        self._table: dict[tuple[int, int, int], tuple[tuple, frozenset]] = {}

    def _entry(self, key: tuple[int, int, int]) -> tuple[tuple, frozenset]:
        """For one token type: the one-token patterns it matches, and the token patterns
        (of longer patterns among them) it fills."""
        found = self._table.get(key)
        if found is None:
            orth, tag, dep = key
            strings = self.vocab.strings
            lexeme = self.vocab[orth]
            token = {"ORTH": lexeme.orth_, "LOWER": lexeme.lower_, "IS_SPACE": lexeme.is_space,
                     "TAG": strings[tag] if tag else "", "DEP": strings[dep] if dep else ""}
            matched = self.specs.matching(token)
            singles = tuple(sorted(self.singles[n] for n in matched if n in self.singles))
            if len(self._table) >= TABLE_LIMIT:
                self._table.clear()
            found = self._table[key] = (singles, frozenset(matched))
        return found

    def __call__(self, doc) -> list[tuple[int, int, int, int]]:
        from spacy.attrs import DEP, ORTH, TAG

        entries = [self._entry(tuple(row)) for row in doc.to_array([ORTH, TAG, DEP]).tolist()]
        matches = set()
        for i, (singles, matched) in enumerate(entries):
            for number, match_id in singles:
                matches.add((number, match_id, i, i + 1))
            for first in matched.intersection(self.starts) if self.starts else ():
                for number, match_id, specs in (self.multis[k] for k in self.starts[first]):
                    end = i + len(specs)
                    if end <= len(entries) and all(
                            spec in entries[i + j][1] for j, spec in enumerate(specs[1:], 1)):
                        matches.add((number, match_id, i, end))
        return sorted(matches)


def install(ruler) -> bool:
    """Match `ruler`'s patterns through a token-type table from now on; False (and the
    ruler unchanged) when a pattern is beyond the table. Call again after adding patterns."""
    try:
        table = TableMatch(ruler)
    except Unsupported:
        return False
    ruler.match = table
    return True
