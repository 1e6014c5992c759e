"""Plain-language explanations of a signal for readers who are not data people."""

from __future__ import annotations

import math
from typing import Any


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def growth(signal: dict) -> str | None:
    """Growth against the previous periods, in words."""
    g = _num(signal.get("growth"))
    if g is None:
        return None
    if g > 0.05:
        return f"Growing: {_pct(g)} more passages than in the previous periods."
    if g < -0.05:
        return f"Shrinking: {_pct(-g)} fewer passages than in the previous periods."
    return "Steady: about as many passages as in the previous periods."


def burst(signal: dict) -> str | None:
    """Whether attention jumped suddenly."""
    b = _num(signal.get("burst"))
    if b is None:
        return None
    if b > 0:
        return f"Burst: attention jumped suddenly this period (burst strength {b:.1f})."
    return "No sudden burst: attention changed gradually."


def breadth(signal: dict) -> str | None:
    """How many distinct sources carry it."""
    s = _num(signal.get("sources"))
    if s is None:
        return None
    eff = _num(signal.get("effective_sources"))
    text = f"Breadth: {int(s)} distinct source{'s' if s != 1 else ''} carry it"
    if eff is not None:
        text += f" (as spread as {eff:.1f} equally active sources)"
    return text + "."


def channel_mix(signal: dict) -> str | None:
    """The share of news, policy and citizen voices."""
    parts = []
    for channel in ("news", "policy", "citizen"):
        v = _num(signal.get(f"{channel}_share"))
        if v is not None and v > 0:
            parts.append(f"{_pct(v)} {channel}")
    return f"Channel mix: {', '.join(parts)}." if parts else None


def voice(signal: dict, min_authors: int) -> str | None:
    """Whose voice: distinct authors and whether one voice dominates."""
    authors = _num(signal.get("authors"))
    if authors is None:
        return None
    if authors == 0:
        return ("No citizen posts carry this topic: its voice is news and policy "
                "publications.")
    top = _num(signal.get("top_author_share"))
    text = f"{int(authors)} distinct citizen author{'s' if authors != 1 else ''}"
    if top is not None and authors > 0:
        text += f"; the most active one wrote {_pct(top)} of the citizen posts"
    if signal.get("narrow_voice") is True or authors < min_authors:
        text += (". Narrow voice: a few people carry this topic; it may not be a movement, "
                 f"and quotes are hidden below {min_authors} authors")
    return text + "."


def expectation_gap(signal: dict) -> str | None:
    """The gap between what people expect and what they get, in words."""
    share = _num(signal.get("expectation_share"))
    gap = _num(signal.get("expectation_gap"))
    if share is None and gap is None:
        return None
    parts = []
    if share is not None:
        parts.append(f"{_pct(share)} of its passages state an expectation (\"should\", "
                     "\"people expect\", \"we were promised\")")
    g = _num(signal.get("expectation_growth"))
    if g is not None and share:
        parts.append(f"expectations {'grew' if g > 0 else 'fell'} by {_pct(abs(g))}")
    if gap is not None:
        parts.append(f"expectation gap {gap:.2f}")
    text = "; ".join(parts) + "."
    if signal.get("gap_risk") is True:
        text += " Gap risk: expectations rise faster than the topic is addressed."
    return text[0].upper() + text[1:]


def reasons(signal: dict) -> list[str]:
    """The ring and stage explained: growth, burst, breadth and channel mix."""
    return [t for t in (growth(signal), burst(signal), breadth(signal), channel_mix(signal)) if t]


def movement(signal: dict) -> str:
    """Where the topic was on the previous period's radar."""
    move, prev, ring = signal.get("movement"), signal.get("previous_ring"), signal.get("ring")
    if move == "new":
        return "New on the radar this period: never on it before."
    if move == "back":
        return f"Back on the radar this period (in {ring}) after having left it."
    if move == "moved in":
        return f"Moved in from {prev} to {ring}: more urgent than the previous period."
    if move == "moved out":
        return f"Moved out from {prev} to {ring}: less urgent than the previous period."
    if move == "left":
        return f"Left the radar this period (was {prev})."
    if ring:
        return f"Same ring as the previous period ({ring})."
    return "Not on the radar."
