"""Pseudonymisation and redaction: no raw author name or contact detail is stored.

Authors become keyed hashes (HMAC-SHA256 with a secret salt), so the same person
is counted once across posts without the warehouse ever holding the name. The
salt comes from `RADAR_PSEUDONYM_SALT`, else from a file outside the warehouse
folder ($RADAR_SALT_DIR, default ~/.config/horizon-radar/salts) that `radar init`
creates readable only by its owner (0400); the radar refuses to start with one
others can read. It is never stored in the warehouse, so a leaked warehouse (or
folder) cannot be reversed by hashing known names. `radar salt --rotate` adds a key.

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
SALT_DIR_ENV = "RADAR_SALT_DIR"
USER_TOKEN = re.compile(r"<USER:([0-9a-f]{20})>")


class SaltMissing(RuntimeError):
    """No usable pseudonymisation salt (missing, readable by others, or in the wrong place)."""


def salt_dir() -> Path:
    """Where salt files live: $RADAR_SALT_DIR, else ~/.config/horizon-radar/salts."""
    env = os.environ.get(SALT_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "horizon-radar" / "salts"


def salt_path(warehouse_path: Path) -> Path:
    """The salt file of a warehouse: outside its folder, named after the warehouse and its path.

    Kept apart so that copying or sharing the warehouse folder (backups, an analyst's
    copy) never carries the key that could confirm a guessed name.
    """
    wh = Path(warehouse_path).expanduser().resolve()
    tag = hashlib.sha256(str(wh).encode("utf-8")).hexdigest()[:12]
    return salt_dir() / f"{wh.stem}-{tag}.salt"


def legacy_salt_path(warehouse_path: Path) -> Path:
    """Where versions before 0010 kept the salt: beside the warehouse."""
    return warehouse_path.with_name(warehouse_path.name + ".salt")


def _check_place(path: Path, warehouse_path: Path) -> None:
    folder = Path(warehouse_path).expanduser().resolve().parent
    if path.resolve().parent == folder or folder in path.resolve().parents:
        raise SaltMissing(f"{path}: the pseudonymisation salt must live outside the warehouse "
                          f"folder {folder}; set {SALT_DIR_ENV} to another folder")


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file readable by its owner only (mode 0400)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def ensure_salt_file(warehouse_path: Path) -> Path | None:
    """Create a random salt file (owner read-only) unless the environment provides the salt.

    A salt left beside the warehouse by an older version is moved to its new place, so
    existing pseudonyms stay the same.
    """
    if os.environ.get(SALT_ENV):
        return None
    path = salt_path(warehouse_path)
    _check_place(path, warehouse_path)
    if not path.exists():
        old = legacy_salt_path(warehouse_path)
        if old.exists():
            _write_private(path, old.read_text(encoding="utf-8"))
            old.unlink()
        else:
            _write_private(path, secrets.token_hex(32) + "\n")
    return path


def load_salt(warehouse_path: Path) -> bytes:
    """The salt from the environment, else from the warehouse's salt file.

    Refuses (SaltMissing, with what to do) a salt file that group or others can read,
    one inside the warehouse folder, or a rotation that did not finish. A file with
    several lines is a rotated salt: one key per line, oldest first (see `author_hash`).
    """
    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    path = salt_path(warehouse_path)
    _check_place(path, warehouse_path)
    if not path.exists():
        if legacy_salt_path(warehouse_path).exists():
            ensure_salt_file(warehouse_path)  # move the old salt out of the warehouse folder
        else:
            raise SaltMissing(
                f"no pseudonymisation salt: set {SALT_ENV} or run `radar init` to create {path}")
    if path.with_name(path.name + ".rotating").exists():
        raise SaltMissing(f"{path}: a salt rotation did not finish; run `radar salt --rotate` again")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SaltMissing(f"{path}: the pseudonymisation salt is readable by group or others "
                          f"(mode {stat.S_IMODE(mode):o}); run `chmod 400 {path}`")
    keys = [k.strip() for k in path.read_text(encoding="utf-8").splitlines() if k.strip()]
    return "\n".join(keys).encode("utf-8")


def check_salt(warehouse_path: Path) -> None:
    """Refuse to start (SaltMissing) when an existing salt is misplaced or readable by others."""
    if os.environ.get(SALT_ENV):
        return
    if salt_path(warehouse_path).exists() or legacy_salt_path(warehouse_path).exists():
        load_salt(warehouse_path)


def _hmac20(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def author_hash(author: str | None, salt: bytes) -> str | None:
    """A keyed, stable pseudonym for an author name (None for no author).

    A rotated salt (several keys, one per line) chains: the name is hashed with the
    first key, that pseudonym with the next, and so on, so documents stored before a
    rotation (re-pseudonymised with the new key) and after it agree.
    """
    if author is None:
        return None
    norm = " ".join(str(author).split()).casefold()
    if not norm:
        return None
    keys = salt.split(b"\n")
    value = _hmac20(keys[0], norm)
    for key in keys[1:]:
        value = _hmac20(key, value)
    return value


def rehash(pseudonym_value: str, new_key: bytes) -> str:
    """A stored pseudonym carried over to a salt rotated with `new_key`."""
    return _hmac20(new_key, pseudonym_value)


def rotate_salt_file(warehouse_path: Path) -> tuple[Path, bytes]:
    """Start a rotation: a new key (returned) written beside the salt as `.rotating`.

    The caller re-pseudonymises the warehouse with `rehash` and then calls
    `finish_rotation`; until then the radar refuses to start.
    """
    if os.environ.get(SALT_ENV):
        raise SaltMissing(f"the salt comes from {SALT_ENV}: rotate it where it is kept "
                          "(a salt file is needed for `radar salt --rotate`)")
    path = salt_path(warehouse_path)
    pending = path.with_name(path.name + ".rotating")
    if pending.exists():
        return path, pending.read_text(encoding="utf-8").strip().encode("utf-8")
    load_salt(warehouse_path)  # exists, private, in its place
    key = secrets.token_hex(32)
    _write_private(pending, key + "\n")
    return path, key.encode("utf-8")


def finish_rotation(warehouse_path: Path) -> None:
    """Append the pending key to the salt file (the warehouse is already re-pseudonymised)."""
    path = salt_path(warehouse_path)
    pending = path.with_name(path.name + ".rotating")
    keys = path.read_text(encoding="utf-8").rstrip("\n") + "\n" + pending.read_text(encoding="utf-8")
    _write_private(path, keys)
    pending.unlink()


def pseudonym(handle: str, salt: bytes | None) -> str:
    """The placeholder for a forum handle: `<USER:...>` with its author hash.

    "@Alice" in a post and the author "alice" get the same pseudonym, so a quoted or
    mentioned person is linked like an author and never named. Without a salt
    (text redacted outside a warehouse) the handle becomes a bare `<USER>`.
    """
    name = handle.strip().lstrip("@")
    if salt is None or not name:
        return "<USER>"
    return f"<USER:{author_hash(name, salt)}>"


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


def load_redactor() -> None:
    """Load the redaction models now (spaCy and Presidio, ~10 s) rather than at the first text."""
    pii.Redactor.get()


def redact(text: str | None, *, salt: bytes | None = None) -> str | None:
    """The one entry point for redacting a citizen text before it is stored or shown."""
    if not text:
        return text
    return redact_many([text], salt=salt)[0]


_QUOTE_HEAD = re.compile(
    r"(<aside\b[^>]*class=\"[^\"]*\bquote\b[^\"]*\"[^>]*>)(.*?)(?=<blockquote)",
    re.DOTALL | re.IGNORECASE)
_QUOTE_END = re.compile(r"(</blockquote>)(\s*</aside>)", re.IGNORECASE)
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

    if not html or "<aside" not in html:
        return html
    return _QUOTE_END.sub(r"\1<p>[/quote]</p>\2", _QUOTE_HEAD.sub(title, html))
