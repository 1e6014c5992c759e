"""Document identity shared by every way documents arrive (crawls and imports).

Canonical URLs without tracking parameters, content hashes over normalised
text, stable document ids, and language detection.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "_hsenc", "_hsmi", "ref", "ref_src", "cmpid", "ocid", "spm", "share", "s_cid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "wt_")


def canonical_url(url: str | None) -> str | None:
    """The URL with tracking parameters, fragments and default ports removed, host lowercased."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


def normalise_text(text: str) -> str:
    """Text with Unicode normalised and whitespace collapsed: what hashes are taken over."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def content_hash(text: str) -> str:
    """A hash of the normalised, case-folded text: equal for the same content."""
    return hashlib.sha256(normalise_text(text).casefold().encode("utf-8")).hexdigest()[:32]


def doc_id(canonical: str | None, source: str, chash: str) -> str:
    """A stable document id: from the canonical URL, else from source and content."""
    key = canonical if canonical else f"{source}\x00{chash}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


# Restricting the candidates to widely written languages avoids the classic
# confusions of short English texts with e.g. Nigerian Pidgin or Tagalog.
LANGUAGES = (
    "ar bg ca cs da de el en es et fa fi fr ga he hi hr hu id is it ja ko lt lv mt nl nn no "
    "pl pt ro ru sk sl sq sr sv th tr uk ur vi zh"
).split()


@functools.cache
def _langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(LANGUAGES)
    return identifier


_WORD = re.compile(r"\w+", re.UNICODE)


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the text's language, or None when too short or unsure."""
    if not text:
        return None
    sample = text[:400]  # plenty to tell a language; longer samples only cost time
    if len(_WORD.findall(sample)) < 3:
        return None
    lang, prob = _langid().classify(sample)
    return lang if prob >= 0.5 else None


def utcnow() -> datetime:
    """The current time as a naive UTC timestamp (the warehouse's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(value: datetime) -> datetime:
    """A datetime converted to naive UTC (naive input is taken as UTC already)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
