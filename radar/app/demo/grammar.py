"""A tiny template grammar for the demo corpus.

A template is text with `{slot}` placeholders and `[one|two|three]`
alternatives. `fill` expands alternatives first (they may nest slots), then
replaces each slot with a random value from `SLOTS`, so one template yields many
different sentences. Everything draws from the `random.Random` it is given, so a
seed reproduces the corpus exactly.
"""

from __future__ import annotations

import random
import re

CITY = "Riverton"

SLOTS: dict[str, list[str]] = {
    "place": [
        "Northgate", "Eastbrook", "Millbank", "Old Town", "Harbourside", "Westfield",
        "Kingsmead", "Ashby Green", "Fenwick", "Southmoor", "Castle Hill", "Brookside",
        "St Anne's", "Hollins Park", "the Riverside estate", "Upper Tolcross",
    ],
    "council": [
        "Riverton City Council", "the city council", "the council", "council officers",
        "the cabinet", "the local authority",
    ],
    "official": [
        "Councillor Amira Haddad", "Councillor Tom Fairbairn", "Councillor Grace Okafor",
        "Councillor Piotr Nowak", "Councillor Helen Marsh", "Councillor Daniel Reyes",
        "the council's chief executive, Sarah Lindqvist", "deputy leader Michael Osei",
    ],
    "officer": [
        "a council spokesperson", "the head of service", "a senior officer",
        "the service manager", "a spokesperson for the authority",
    ],
    "resident": [
        "one resident", "a local parent", "a retired teacher from {place}",
        "a shop owner in {place}", "a student", "a community volunteer",
    ],
    "committee": [
        "cabinet", "the scrutiny committee", "the finance committee",
        "the communities committee", "full council",
    ],
    "month": [
        "January", "February", "March", "April", "May", "June", "July", "September",
        "October", "November", "December",
    ],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Saturday"],
    "group": [
        "residents' associations", "the chamber of commerce", "disability groups",
        "young people", "older residents", "tenants' groups", "parents",
        "local charities",
    ],
}

_NUMBER_SLOTS = {
    "n": (3, 60),
    "nn": (80, 900),
    "pct": (4, 38),
    "year": (2027, 2031),
}
_MONEY = ["£{a}.{b} million", "£{c}0,000", "£{a} million"]

_ALT = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def _money(rng: random.Random) -> str:
    return rng.choice(_MONEY).format(a=rng.randint(1, 9), b=rng.randint(1, 9), c=rng.randint(12, 95))


def _slot(name: str, rng: random.Random) -> str:
    if name == "city":
        return CITY
    if name == "money":
        return _money(rng)
    if name in _NUMBER_SLOTS:
        lo, hi = _NUMBER_SLOTS[name]
        return str(rng.randint(lo, hi))
    if name in SLOTS:
        return rng.choice(SLOTS[name])
    raise KeyError(f"unknown slot {{{name}}} in a demo template")


def fill(template: str, rng: random.Random) -> str:
    """Expand `[a|b]` alternatives (innermost first) and `{slot}`s into one sentence."""
    text = template
    while True:
        new = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), text)
        if new == text:
            break
        text = new
    for _ in range(3):  # slot values may contain slots ({place} inside {resident})
        text = _SLOT.sub(lambda m: _slot(m.group(1), rng), text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:]


def pick(pool: list[str], k: int, rng: random.Random) -> list[str]:
    """k distinct templates from the pool (all of them, shuffled, when k >= len)."""
    return rng.sample(pool, min(k, len(pool)))
