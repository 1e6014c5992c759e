"""Split documents into passages of about a paragraph.

Policy (docs/nlp.md): a document of at most `max_words` words is one passage.
A longer one is cut at paragraph breaks (blank lines, or single newlines when
the text has no blank lines); a paragraph longer than `max_words` is cut at
sentence ends, and a sentence longer than `max_words` at word boundaries.
Neighbouring pieces shorter than `min_words` are joined with the next piece as
long as the result stays within `max_words`, so headings and one-line
paragraphs do not become passages of their own. The title is prepended to the
first passage: it usually names the subject the first paragraph is about.

A part of a page (a document whose URL has a fragment, such as an archive's
paragraphs `.../1995/PRY#p36`) carries the whole page's title ("PRY statement,
UN General Debate 1995"), the same on every part. It still opens the part's
passage, as context for reading it, but it is not something the part says:
its words are left out of the part's terms (`Passage.body_start`), or every
part would count as mentioning the speaker's code, and a speech of 40
paragraphs would count its title words 40 times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_BLANK_LINE = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")


@dataclass(frozen=True)
class Passage:
    """One passage of a document."""

    seq: int
    text: str
    n_words: int
    body_start: int = 0  # where the document's own words begin in `text` (after a prepended title)

    @property
    def body(self) -> str:
        """The passage without the title prepended to it."""
        return self.text[self.body_start:]


def is_part_of_page(url: str | None) -> bool:
    """A document that is a part of a page (its URL has a fragment): its title is the page's."""
    if not url:
        return False
    try:
        return bool(urlsplit(url.strip()).fragment)
    except ValueError:  # an unparseable URL names no part
        return False


def word_count(text: str) -> int:
    """Words as whitespace-separated tokens."""
    return len(text.split())


def _clean(text: str) -> str:
    return " ".join(text.split())


def paragraphs(text: str) -> list[str]:
    """Paragraphs of a text: blank-line separated, else line separated."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    return [p for p in (_clean(p) for p in parts) if p]


def sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph, split after . ! ? before a capital or digit."""
    return [s for s in (_clean(s) for s in _SENTENCE_END.split(paragraph)) if s]


def _pieces(paragraph: str, max_words: int) -> list[str]:
    """A paragraph cut into pieces of at most `max_words` words, at sentence ends if possible."""
    if word_count(paragraph) <= max_words:
        return [paragraph]
    out: list[str] = []
    current: list[str] = []
    n = 0
    for sentence in sentences(paragraph):
        words = sentence.split()
        if len(words) > max_words:  # one huge "sentence" (a list, a table): cut by words
            if current:
                out.append(" ".join(current))
                current, n = [], 0
            out.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
            continue
        if n + len(words) > max_words and current:
            out.append(" ".join(current))
            current, n = [], 0
        current.append(sentence)
        n += len(words)
    if current:
        out.append(" ".join(current))
    return out


def split_document(
    text: str, title: str | None = None, *, max_words: int = 180, min_words: int = 40
) -> list[Passage]:
    """The passages of one document, in order (an empty text gives no passage)."""
    if max_words < 1 or min_words < 0:
        raise ValueError("max_words must be positive and min_words not negative")
    title = _clean(title or "")
    body = text or ""
    head = title if title and title.casefold() not in _clean(body[: len(title) + 200]).casefold() else ""
    if word_count(body) <= max_words:
        if head and body.strip():
            joined = _clean(f"{head}. {body}")
            return [Passage(0, joined, word_count(joined), len(head) + 2)]
        joined = _clean(head or body)
        return [Passage(0, joined, word_count(joined))] if joined else []
    pieces = [p for para in paragraphs(body) for p in _pieces(para, max_words)]
    merged: list[str] = []
    for piece in pieces:
        if merged and (
            word_count(merged[-1]) < min_words or word_count(piece) < min_words
        ) and word_count(merged[-1]) + word_count(piece) <= max_words:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if head and merged:
        merged[0] = f"{head}. {merged[0]}"
    start = len(head) + 2 if head and merged else 0
    return [Passage(i, p, word_count(p), start if i == 0 else 0) for i, p in enumerate(merged)]
