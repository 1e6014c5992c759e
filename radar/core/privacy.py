"""Pseudonymisation and redaction: no raw author name or contact detail is stored.

Authors become keyed hashes (HMAC-SHA256 with a secret salt), so the same person
is counted once across posts without the warehouse ever holding the name. The
salt comes from `RADAR_PSEUDONYM_SALT`, else from a file beside the warehouse
that `radar init` creates readable only by its owner; it is never stored in the
warehouse, so a leaked warehouse cannot be reversed by hashing known names.

Citizen text is redacted by `redact` / `redact_many` (Presidio, radar.core.pii)
before anything is stored: the one entry point for every importer and crawler.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from radar.core import pii

SALT_ENV = "RADAR_PSEUDONYM_SALT"


class SaltMissing(RuntimeError):
    """No pseudonymisation salt: set RADAR_PSEUDONYM_SALT or run `radar init`."""


def salt_path(warehouse_path: Path) -> Path:
    """The salt file beside the warehouse (used when the environment has no salt)."""
    return warehouse_path.with_name(warehouse_path.name + ".salt")


def ensure_salt_file(warehouse_path: Path) -> Path | None:
    """Create a random salt file (mode 0600) unless the environment provides the salt."""
    if os.environ.get(SALT_ENV):
        return None
    path = salt_path(warehouse_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path


def load_salt(warehouse_path: Path) -> bytes:
    """The salt from the environment, else from the salt file beside the warehouse."""
    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    path = salt_path(warehouse_path)
    if not path.exists():
        raise SaltMissing(
            f"no pseudonymisation salt: set {SALT_ENV} or run `radar init` to create {path}"
        )
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SaltMissing(f"{path}: salt file is readable by others; chmod 600 it")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def author_hash(author: str | None, salt: bytes) -> str | None:
    """A keyed, stable pseudonym for an author name (None for no author)."""
    if author is None:
        return None
    norm = " ".join(str(author).split()).casefold()
    if not norm:
        return None
    return hmac.new(salt, norm.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def pseudonym(handle: str, salt: bytes | None) -> str:
    """The placeholder for a forum handle: `<USER:...>`, the start of its author hash.

    "@Alice" in a post and the author "alice" get the same pseudonym, so a quoted or
    mentioned person is linked like an author and never named. Without a salt
    (text redacted outside a warehouse) the handle becomes a bare `<USER>`.
    """
    name = handle.strip().lstrip("@")
    if salt is None or not name:
        return "<USER>"
    return f"<USER:{author_hash(name, salt)[:12]}>"


def redact_many(texts: Iterable[str | None], *, salt: bytes | None = None) -> list[str | None]:
    """Each text with its personal data replaced by typed placeholders (see radar.core.pii).

    E-mail addresses (plain and obfuscated) -> <EMAIL>, phone numbers -> <PHONE>,
    identity numbers (FI, SE, DK, NO, US) -> <ID_NUMBER>, IBANs -> <IBAN>, card
    numbers -> <CARD_NUMBER>, street addresses -> <ADDRESS>, people's names ->
    <PERSON>, @mentions and quoted usernames -> their pseudonym. Batches are faster
    than single texts (spaCy runs over them together).
    """
    texts = list(texts)
    if not any(texts):
        return texts
    return pii.Redactor.get().redact_many(texts, pseudonym=lambda h: pseudonym(h, salt))


def redact(text: str | None, *, salt: bytes | None = None) -> str | None:
    """The one entry point for redacting a citizen text before it is stored or shown."""
    if not text:
        return text
    return redact_many([text], salt=salt)[0]


_QUOTE_HEAD = re.compile(
    r"(<aside\b[^>]*class=\"[^\"]*\bquote\b[^\"]*\"[^>]*>)(.*?)(?=<blockquote)",
    re.DOTALL | re.IGNORECASE)
_DATA_USER = re.compile(r"data-username=\"([^\"]+)\"", re.IGNORECASE)


def quote_markup(html: str | None) -> str | None:
    """Discourse's rendered quotes made plain: the title ("alice:") -> `[quote="alice"]`.

    Rendered (cooked) posts show a quote as an <aside data-username="alice"> whose
    title reads "alice:"; once tags are stripped the name would be a bare word. This
    turns each title into quote markup, which `redact` pseudonymises.
    """
    def title(m: re.Match) -> str:
        user = _DATA_USER.search(m.group(1))
        mark = f'[quote="{user.group(1)}"]' if user else "[quote]"
        return f"{m.group(1)}<p>{mark}</p>"

    return _QUOTE_HEAD.sub(title, html) if html and "<aside" in html else html
