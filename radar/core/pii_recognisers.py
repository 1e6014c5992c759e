"""Presidio recognisers of our own: Nordic identity numbers with their checksums,
e-mail addresses (plain and obfuscated), street addresses and forum handles.

Each recogniser is a regular expression plus a check in Python (a checksum, a
date, a known top-level domain); a match the check refuses is not reported.
Library recognisers (phone numbers via `phonenumbers`, card numbers, IBANs,
US SSNs, person names from spaCy) are set up in `radar.core.pii`, which wraps
these specs as Presidio recognisers (this module needs no Presidio itself).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

Check = Callable[[re.Match], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Spec:
    """One recogniser: every match of `regex` that `check` accepts (it returns the span)."""

    entity: str
    regex: re.Pattern
    check: Check
    score: float = 0.9
    name: str = ""


def _spec(entity: str, regex: str, check: Check | None = None, *, score: float = 0.9,
          flags: int = 0, name: str | None = None) -> Spec:
    return Spec(entity, re.compile(regex, flags), check or (lambda m: m.span()), score,
                name or f"radar_{entity.lower()}")


def find(spec: Spec, text: str) -> list[tuple[int, int]]:
    """The spans of `text` the recogniser reports."""
    spans = []
    for m in spec.regex.finditer(text):
        span = spec.check(m)
        if span:
            spans.append(span)
    return spans


# ---------------------------------------------------------------- checksums


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and Swedish personnummer."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _date_ok(day: int, month: int, year: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


_FI_CENTURY = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900,
               "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
_FI_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def fi_hetu_ok(value: str) -> bool:
    """Finnish henkilötunnus DDMMYYCZZZQ: a real date and the mod-31 check character."""
    value = value.upper()
    if len(value) != 11 or value[6] not in _FI_CENTURY or not value[:6].isdigit():
        return False
    if not value[7:10].isdigit():
        return False
    day, month, year = int(value[:2]), int(value[2:4]), int(value[4:6]) + _FI_CENTURY[value[6]]
    if not _date_ok(day, month, year):
        return False
    return _FI_CHECK[int(value[:6] + value[7:10]) % 31] == value[10]


def se_pnr_ok(value: str) -> bool:
    """Swedish personnummer (YY)YYMMDD-NNNC: a date (day + 60 for samordningsnummer) and Luhn."""
    digits = re.sub(r"[-+\s]", "", value)
    if len(digits) == 12:
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    day = day - 60 if day > 60 else day
    if not _date_ok(day, month, 2000):  # leap-year safe: 2000 was a leap year
        return False
    return luhn_ok(digits)


_DK_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def dk_cpr_ok(value: str, *, separated: bool) -> bool:
    """Danish CPR DDMMYY-SSSS: a real date; without the dash also the (pre-2007) mod-11 check.

    Numbers issued since 2007 need not pass mod 11, so the dashed form, which is how
    people write a CPR number, is accepted on its date alone.
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) != 10:
        return False
    day, month = int(digits[:2]), int(digits[2:4])
    if not _date_ok(day, month, 2000):
        return False
    if separated:
        return True
    return sum(int(d) * w for d, w in zip(digits, _DK_WEIGHTS, strict=True)) % 11 == 0


_NO_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_NO_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def no_fnr_ok(value: str) -> bool:
    """Norwegian fødselsnummer DDMMYYIIIKK: a date (D-/H-numbers too) and both mod-11 digits."""
    digits = re.sub(r"\s", "", value)
    if len(digits) != 11 or not digits.isdigit():
        return False
    day, month = int(digits[:2]), int(digits[2:4])
    day = day - 40 if day > 40 else day          # D-number
    month = month - 40 if month > 40 else month  # H-number
    if not _date_ok(day, month, 2000):
        return False
    nums = [int(d) for d in digits]
    k1 = 11 - sum(n * w for n, w in zip(nums[:9], _NO_W1, strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(n * w for n, w in zip(nums[:10], _NO_W2, strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 < 10 and k2 < 10 and k1 == nums[9] and k2 == nums[10]


def us_ssn_ok(value: str) -> bool:
    """US SSN AAA-GG-SSSS: not area 000, 666 or 9xx, group 00 or serial 0000."""
    digits = re.sub(r"\D", "", value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


# ---------------------------------------------------------------- identity numbers

_B = r"(?<![\w+-])"   # not glued to a word or another number
_E = r"(?![\w-])"

FI_HETU = _spec(
    "FI_HETU", _B + r"\d{6}[-+ABCDEFUVWXY]\d{3}[0-9A-Y]" + _E,
    lambda m: m.span() if fi_hetu_ok(m.group(0)) else None, flags=re.IGNORECASE)

SE_PNR = _spec(
    "SE_PNR", _B + r"(?:\d{2})?\d{6}[-+]?\d{4}" + _E,
    lambda m: m.span() if se_pnr_ok(m.group(0)) and _se_shape(m.group(0)) else None)


def _se_shape(value: str) -> bool:
    # A bare 10-digit run is also a Danish or any other number; only count it when Luhn
    # holds (checked above) and it is not a phone-like leading zero run.
    return not value.startswith("0") or "-" in value or "+" in value


DK_CPR = _spec(
    "DK_CPR", _B + r"\d{6}(?:-|\s?)\d{4}" + _E,
    lambda m: m.span() if dk_cpr_ok(m.group(0), separated="-" in m.group(0)) else None)

NO_FNR = _spec(
    "NO_FNR", _B + r"\d{6}\s?\d{5}" + _E,
    lambda m: m.span() if no_fnr_ok(m.group(0)) else None)

# ---------------------------------------------------------------- e-mail

# Common top-level domains for obfuscated addresses; a plain address is checked
# against the Public Suffix List that tldextract ships (no download, see `_suffixes`).
_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


@lru_cache(maxsize=1)
def _suffixes():
    import tldextract

    # suffix_list_urls=() : use the list bundled with tldextract, never fetch one.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _has_public_suffix(domain: str) -> bool:
    parts = _suffixes()(domain)
    return bool(parts.suffix) and bool(parts.domain)


EMAIL = _spec(
    "EMAIL", r"(?<![\w.+-])" + _LOCAL + r"@" + _LABEL + r"(?:\." + _LABEL + r")+",
    lambda m: m.span() if _has_public_suffix(m.group(0).split("@", 1)[1]) else None)

_AT = (r"(?:\s*[\(\[\{<]\s*(?:at|ät|@|a)\s*[\)\]\}>]\s*"   # (at) [at] {at} <at> [@]
       r"|\s+(?:at|AT|At)\s+"                                   # " at "
       r"|\s*@\s+|\s+@\s*"                                      # spaced @
       r"|\s*\(?\s*(?:miukumauku|kissanhäntä|snabel-a)\s*\)?\s*)")  # fi/sv words for @
_DOT = (r"(?:\s*[\(\[\{<]\s*(?:dot|piste|punkt|prick)\s*[\)\]\}>]\s*"
        r"|\s+(?:dot|DOT|Dot|piste|punkt|prick)\s+|\.)")

OBFUSCATED_EMAIL = _spec(
    "EMAIL",
    r"(?<![\w.+-])(?P<local>" + _LOCAL + r")" + _AT
    + r"(?P<domain>" + _LABEL + r"(?:" + _DOT + _LABEL + r")+)(?![\w-])",
    lambda m: _obfuscated_span(m), name="radar_obfuscated_email")

_DOT_SPLIT = re.compile(_DOT)


def _obfuscated_span(m: re.Match) -> tuple[int, int] | None:
    """The address up to the last label that makes a public suffix ("... dot org and more")."""
    domain, base = m.group("domain"), m.start("domain")
    ends = [sep.start() for sep in _DOT_SPLIT.finditer(domain)]  # where each label ends
    ends.append(len(domain))
    labels = _DOT_SPLIT.split(domain)
    for n in range(len(labels), 1, -1):
        if _has_public_suffix(".".join(labels[:n]).lower()):
            return m.start(), base + ends[n - 1]
    return None


# ---------------------------------------------------------------- street addresses

_NORDIC_STREET = (r"(?:tie|katu|kuja|polku|väylä|kaari|rinne|ranta|tori|aukio|puistikko|piha|"
                  r"gatan|gata|vägen|väg|gränd|stig|backe|torg|allén|"
                  r"gade|gaden|vej|vejen|stræde|straede|allé|plads|torv|"
                  r"veien|vegen|gate|gata|veg|stien|plass|"
                  r"straße|strasse|str\.|weg|platz)")
_CAP = r"[A-ZÅÄÖÆØÜ][\wåäöæøüéè'-]+"
# Names written as a separate word after the street's name ("Karl Johans gate", "Bygdøy allé").
_SPACED_STREET = r"(?:gate|gata|gatan|allé|alle|vei|veien|vej|väg|vägen|plass|plads|torg|tie|katu)"
_HOUSE = (r"\d{1,4}[A-Za-z]?(?:\s[A-H](?:\s?\d{1,3})?(?![\w]))?"
          r"(?:,?\s(?:as\.?\s?\d{1,3}|lgh\.?\s?\d{1,4}|\d{1,2}\.?\s?(?:th|tv|mf|sal)\.?))?")
_POST = r"(?:,?\s+(?:[A-Z]{1,2}-)?(?:\d{3}\s?\d{2}|\d{4})\s+" + _CAP + r"(?:\s[A-Z](?![\w]))?)?"

ADDRESS_NORDIC = _spec(
    "ADDRESS",
    r"(?<![\w-])(?:" + _CAP + r"\s){0,2}(?:[A-ZÅÄÖÆØÜ][\wåäöæøü-]*" + _NORDIC_STREET
    + r"|" + _SPACED_STREET + r")\s" + _HOUSE + _POST + r"(?![\w])",
    name="radar_address_nordic")

_EN_SUFFIX = (r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|"
              r"Court|Ct\.?|Way|Place|Pl\.?|Terrace|Crescent|Close|Square|Sq\.?|Parkway|Pkwy\.?|"
              r"Highway|Hwy\.?|Circle|Cir\.?|Trail|Row|Gardens)")
_EN_UNIT = r"(?:,?\s(?:Apt\.?|Apartment|Unit|Suite|Flat|#)\s?\w{1,5})?"
_EN_CITY = r"(?:,\s" + _CAP + r"(?:\s" + _CAP + r")?(?:,?\s[A-Z]{2}(?:\s\d{5}(?:-\d{4})?)?)?)?"

ADDRESS_EN = _spec(
    "ADDRESS",
    r"(?<![\w.,-])\d{1,5}[A-Za-z]?\s(?:(?:[NSEW]|North|South|East|West)\.?\s)?(?:" + _CAP
    + r"\s){1,3}" + _EN_SUFFIX + r"(?![\w])" + _EN_UNIT + _EN_CITY,
    name="radar_address_en")

# ---------------------------------------------------------------- people

# A title and a capitalised name: "Mr Eriksson", "Dr. Anna Berg", "Councillor Smith".
TITLED_PERSON = _spec(
    "PERSON",
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Cllr|Councillor|Councilman|Councilwoman|Rev|Sir|Dame|"
    r"Herr|Fru|Rouva|Herra)\.?\s(?P<name>" + _CAP + r"(?:\s" + _CAP + r")?)",
    lambda m: m.span("name"), score=0.8, name="radar_titled_person")

# ---------------------------------------------------------------- forum handles

# Discourse quote markup [quote="alice, post:3, topic:7"] or [quote=alice]: the name.
QUOTE_USER = _spec(
    "USER", r"(?i)\[quote=\"?(?P<name>[^\],\"]+)",
    lambda m: m.span("name"), score=1.0, name="radar_quote_user")

# "@alice", "@alice wrote:"; not an e-mail address (no word character before the @).
MENTION = _spec(
    "USER", r"(?<![\w@.+-])@(?P<name>[A-Za-z0-9_][\w.-]{0,38}[\w])",
    lambda m: m.span("name") if not m.group("name").isdigit() else None,
    score=1.0, name="radar_mention")

# "alice wrote:" / "alice said:" opening a line (a quote header without the @).
QUOTE_HEADER = _spec(
    "USER", r"(?m)^\s*(?P<name>[\w.-]{2,39})\s(?:wrote|said|kirjoitti|skrev):",
    lambda m: m.span("name"), score=1.0, name="radar_quote_header")

_OWN: tuple[Spec, ...] = (FI_HETU, SE_PNR, DK_CPR, NO_FNR, EMAIL, OBFUSCATED_EMAIL,
        ADDRESS_NORDIC, ADDRESS_EN, TITLED_PERSON, QUOTE_USER, MENTION, QUOTE_HEADER)


SPECS = _OWN
