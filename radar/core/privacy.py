"""Pseudonymisation and redaction: no raw author name or contact detail is stored.

Authors become keyed hashes (HMAC-SHA256 with a secret salt), so the same person
is counted once across posts without the warehouse ever holding the name. The
salt comes from `RADAR_PSEUDONYM_SALT`, else from a file beside the warehouse
that `radar init` creates readable only by its owner; it is never stored in the
warehouse, so a leaked warehouse cannot be reversed by hashing known names.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

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


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL_USER = re.compile(r"(?i)\b(https?://)[^\s/@]+@")
# International and local phone numbers: 7+ digits with optional separators.
_PHONE = re.compile(r"(?<![\w/.])(?:\+|00)?\d[\d\s().-]{5,}\d(?![\w/])")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,30}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
_NIN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")  # US social security number shape


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Years, prices and counts are shorter; dates like 2024-01-01 have 8 digits but
    # dashes in date shape, which we leave alone.
    if len(digits) < 7 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", match.group(0).strip()):
        return match.group(0)
    return "[phone]"


def redact(text: str | None) -> str | None:
    """Replace e-mail addresses, phone numbers, @handles, IBANs and ID numbers in text."""
    if not text:
        return text
    text = _URL_USER.sub(r"\1", text)
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _NIN.sub("[id]", text)
    text = _PHONE.sub(_phone, text)
    text = _HANDLE.sub("[handle]", text)
    return text
