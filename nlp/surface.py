"""Readable labels: each label term as the words its passages actually use.

Topic terms are lemmas of content words (nlp/terms.py): "invasion kuwait",
"hiv aids", "crime humanity", "non permanent". They rank and match well but
read like telegrams. A label term is shown as the most frequent span of the
topic's passages that spells it: the same words in the same order, inflected
as written ("crimes"), with at most MAX_GAP short words between them ("invasion
of Kuwait", "crimes against humanity"), joined only by spaces, hyphens or
slashes ("HIV/AIDS", "non-permanent"), never across punctuation ("history,
Afghanistan" is not a phrase). Capitals are kept as written, except a capital
seen only at the start of a sentence. A term no passage spells stays as it is.

Pure functions: the texts are given; nothing here reads the warehouse.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

_SEP = r"(?:[ \t\n]*[-\u2010\u2011/][ \t\n]*|[ \t\n]+)"  # spaces, a hyphen or a slash
_SENTENCE_END = re.compile(r"[.!?:;\"\u201c\u201d(\[]\s*$")
MAX_GAP = 2          # short words allowed between two words of a term
MAX_GAP_WORD = 7     # a gap word is short: "of", "the", "against", "between"
MAX_CHARS = 40       # a label phrase longer than this is not a label


# Endings of English inflection (and "children"); anything else makes another word:
# "Somalia" is not a form of "somali", nor "Kuwait" of "kuwaiti".
_ENDINGS = r"(?:s|es|d|ed|ing|er|ers|est|ren)?"


def _word(lemma: str) -> str:
    """A pattern for the written forms of a lemma: itself with an inflectional ending
    ("crimes", "weapons", "children"), or with the usual spelling changes ("countries",
    "making", "lives"); a possessive may follow ("Iraq's")."""
    forms = [re.escape(lemma) + _ENDINGS]
    if len(lemma) > 3 and lemma.endswith("y"):
        forms.append(re.escape(lemma[:-1]) + r"i(?:es|ed|er|est)")
    elif len(lemma) > 3 and lemma.endswith("fe"):
        forms.append(re.escape(lemma[:-2]) + "ves")
    elif len(lemma) > 3 and lemma.endswith("f"):
        forms.append(re.escape(lemma[:-1]) + "ves")
    elif len(lemma) > 3 and lemma.endswith("e"):
        forms.append(re.escape(lemma[:-1]) + "(?:ing|ed)")
    return r"\b(?:" + "|".join(forms) + r")(?:['\u2019]s)?\b"


def term_pattern(term: str) -> re.Pattern:
    """The regular expression that finds `term`'s written forms (case-insensitive)."""
    words = term.split()
    gap = rf"(?:{_SEP}[^\W\d_]{{1,{MAX_GAP_WORD}}}){{0,{MAX_GAP}}}?{_SEP}"
    return re.compile(gap.join(_word(w) for w in words), re.IGNORECASE | re.UNICODE)


def surface_form(term: str, texts: Iterable[str]) -> str:
    """The most frequent written form of `term` in `texts` (the term itself when none)."""
    words = term.split()
    if not words:
        return term
    pattern = term_pattern(term)
    inside: Counter[str] = Counter()
    initial: Counter[str] = Counter()
    for text in texts:
        for m in pattern.finditer(text or ""):
            span = " ".join(m.group(0).split())
            if len(span) > MAX_CHARS:
                continue
            at_start = m.start() == 0 or bool(_SENTENCE_END.search(text[max(0, m.start() - 4):m.start()]))
            (initial if at_start else inside)[span] += 1
    if inside:
        return _best_spelling(inside)
    if initial:
        span = max(initial.items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))[0]
        # Capitalised only because it opens a sentence: "Climate change" -> "climate change";
        # a word written in capitals or with inner capitals keeps them ("NEPAD", "McDonald").
        head = span.split()[0]
        return span[0].lower() + span[1:] if head[1:] == head[1:].lower() else span
    return term


def _best_spelling(found: Counter[str]) -> str:
    """The most frequent phrase, whatever its capitals; then its most frequent spelling,
    lower case counting double: a headline's "Flood Defences" gives way to "flood
    defences" when the text also writes it so, while "NEPAD" or "Kuwait", never written in
    lower case, keep their capitals."""
    groups: Counter[str] = Counter()
    for span, n in found.items():
        groups[span.casefold()] += n
    phrase = max(groups.items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))[0]
    spellings = {span: n * (2 if span == span.lower() else 1)
                 for span, n in found.items() if span.casefold() == phrase}
    return max(spellings.items(), key=lambda kv: (kv[1], kv[0] == kv[0].lower(), kv[0]))[0]


def readable_label(terms: Sequence[str], texts: Sequence[str]) -> str:
    """A label of lemma terms (as `label_terms` chose them) written as the passages write
    them: "invasion kuwait, kuwaiti" -> "invasion of Kuwait, Kuwaiti". A term whose written
    form repeats an earlier one's stays a lemma (no "Somalia, Somalia")."""
    out: list[str] = []
    for term in terms:
        form = surface_form(term, texts)
        out.append(term if form.casefold() in {o.casefold() for o in out} else form)
    return ", ".join(out)
