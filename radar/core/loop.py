"""The decision loop's rules as pure functions (no database, no model): step order,
topic-service match scores, service exposure, signpost evaluation and watch-list movement.

Everything here is documented in docs/decisions.md and tested without a warehouse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STEPS: tuple[str, ...] = ("need", "ideas", "feasibility", "feedback", "choice", "implementation",
                          "reassessment")
STEP_TEXT = {
    "need": "understand what stakeholders need",
    "ideas": "ideate: possible responses",
    "feasibility": "check feasibility",
    "feedback": "get feedback",
    "choice": "choose, accountably",
    "implementation": "implement",
    "reassessment": "reassess",
}
VALUES: tuple[str, ...] = ("equity", "sustainability", "satisfaction", "trust")
VALUE_TEXT = {"equity": "equity", "sustainability": "sustainability",
              "satisfaction": "citizen satisfaction", "trust": "trust"}
SIGNPOST_KINDS: tuple[str, ...] = ("share", "growth", "authors", "new_channel", "watch_term")
SIGNPOST_TEXT = {
    "share": "the topic's share of all passages reaches {t:.1%}",
    "growth": "the topic's growth on its baseline reaches {t:g} (1 = doubled)",
    "authors": "{t:g} or more distinct citizen authors carry the topic",
    "new_channel": "the topic appears in a channel it was not in (at least {t:g} passages)",
    "watch_term": "the watch-list item has {t:g} or more passages in a period",
}
RING_WEIGHT = {"Act": 1.0, "Prepare": 0.6, "Watch": 0.3, "Monitor": 0.1}
GAP_WEIGHT = 0.5
# Cosine similarities of all-MiniLM-L6-v2 between a topic and a service description:
# below SIM_FLOOR they are unrelated, from SIM_FULL on clearly about the same thing.
SIM_FLOOR, SIM_FULL = 0.2, 0.6
SIM_WEIGHT, KEYWORD_WEIGHT = 0.6, 0.4


class StepError(ValueError):
    """A decision step that cannot be recorded, with the reason in words."""


# --- steps --------------------------------------------------------------------------------


def allowed_next(current: str | None, trigger_pending: bool = False) -> tuple[str, ...]:
    """The steps a decision may move to from `current` (None: a new decision).

    A decision starts with `need`; it may stay on a step (a further note), go one
    step forward, or go back to any earlier step (the loop iterates: feedback can
    send it back to ideas). `reassessment` follows implementation, or any step when
    a signpost fired; after a reassessment the loop may start again at any step.
    """
    if current is None:
        return ("need",)
    i = STEPS.index(current)
    if current == "reassessment":
        return STEPS
    allowed = list(STEPS[: i + 2])
    if trigger_pending and "reassessment" not in allowed:
        allowed.append("reassessment")
    return tuple(allowed)


def validate_step(current: str | None, step: str, who: str, why: str,
                  values: dict[str, str | None], trigger_pending: bool = False) -> None:
    """Raise StepError unless `step` may be recorded now by `who` with reason `why`.

    A choice must say which public-value considerations were weighed (at least one
    of equity, sustainability, citizen satisfaction, trust).
    """
    if step not in STEPS:
        raise StepError(f"unknown step {step!r} (expected one of: {', '.join(STEPS)})")
    if not (who or "").strip():
        raise StepError("a decision step needs the name of the person recording it")
    if not (why or "").strip():
        raise StepError("a decision step needs a reason (why)")
    unknown = set(values) - set(VALUES)
    if unknown:
        raise StepError(f"unknown public-value consideration(s): {', '.join(sorted(unknown))}")
    allowed = allowed_next(current, trigger_pending)
    if step not in allowed:
        where = f"from {current!r}" if current else "as the first step"
        raise StepError(f"cannot move to {step!r} {where}; allowed: {', '.join(allowed)}")
    if step == "choice" and not any((v or "").strip() for v in values.values()):
        raise StepError("a choice must record the public-value considerations weighed "
                        "(equity, sustainability, citizen satisfaction or trust)")


# --- topic-service matching ---------------------------------------------------------------


_WORD = re.compile(r"[\w'-]+")


def words(text: str | None) -> str:
    """`text` as its lower-case words between single spaces (" two new bus lanes "): what
    keywords are looked for in. Made once per text, it serves every keyword."""
    return " " + " ".join(_WORD.findall((text or "").lower())) + " "


def _found(kw: str, hay: str) -> bool:
    return any(f" {kw}{end} " in hay for end in ("", "s", "es")) or (
        kw.endswith("s") and f" {kw[:-1]} " in hay)


def keyword_in(keyword: str, text: str) -> bool:
    """Whether every word of `keyword` appears, as whole words, in `text` (case-insensitive).

    A keyword of several words matches as a phrase ("bus lane" in "new bus lanes"
    does not, "bus lanes" does); a plural "s" or "es" is forgiven on the last word.
    """
    kw = words(keyword).strip()
    return bool(kw) and _found(kw, words(text))


def keyword_hits(keywords: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The keywords found in any of `texts`, in the order given, without repeats."""
    return hits_in(prepared(keywords), words(" | ".join(t for t in texts if t)))


def prepared(keywords: Iterable[str]) -> list[tuple[str, str]]:
    """Each keyword once, with its words (for `hits_in`); keywords without words left out."""
    out: dict[str, str] = {}
    for k in keywords:
        if k not in out and (kw := words(k).strip()):
            out[k] = kw
    return list(out.items())


def hits_in(keywords: list[tuple[str, str]], hay: str) -> list[str]:
    """`keyword_hits` of `prepared` keywords in a text already made into `words`: the text and
    the keywords are read once, however many texts and keywords are compared."""
    return [k for k, kw in keywords if _found(kw, hay)]


def similarity_part(similarity: float | None) -> float:
    """A cosine similarity rescaled to 0..1 between SIM_FLOOR and SIM_FULL."""
    if similarity is None or math.isnan(similarity):
        return 0.0
    return min(1.0, max(0.0, (similarity - SIM_FLOOR) / (SIM_FULL - SIM_FLOOR)))


def match_score(similarity: float | None, label_hits: int, passage_hits: int) -> float:
    """How strongly a topic touches a service, 0..1.

    0.6 x the rescaled embedding similarity + 0.4 x the keyword evidence (1 when a
    service keyword is in the topic's label or top terms, 0.5 when only its
    representative passages name one, else 0).
    """
    kw = 1.0 if label_hits else 0.5 if passage_hits else 0.0
    return round(SIM_WEIGHT * similarity_part(similarity) + KEYWORD_WEIGHT * kw, 4)


def cosine_matrix(a, b):
    """Cosine similarities of the rows of `a` (n x d) with the rows of `b` (m x d)."""
    import numpy as np

    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if a.size == 0 or b.size == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


# --- exposure -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicOnRadar:
    """What exposure needs to know about one topic matched to a service."""

    topic_id: int
    match: float           # match score (a confirmed match counts as 1)
    ring: str | None
    rising: bool           # stage weak signal or emerging
    gap_risk: bool


def exposure(topics: Iterable[TopicOnRadar]) -> float:
    """A service's exposure: sum over its topics of match x (ring weight + 0.5 if gap risk).

    Ring weights: Act 1, Prepare 0.6, Watch 0.3, Monitor 0.1 (off the radar 0);
    a rising topic counts at least as Watch. The expectation gap (citizens rising,
    policy silent) adds 0.5: that is what makes a service obsolete unnoticed.
    """
    total = 0.0
    for t in topics:
        w = RING_WEIGHT.get(t.ring or "", 0.0)
        if t.rising:
            w = max(w, RING_WEIGHT["Watch"])
        if t.gap_risk:
            w += GAP_WEIGHT
        total += t.match * w
    return round(total, 4)


# --- signposts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicators:
    """A topic's (or watch item's) indicators at one radar run."""

    run_id: int | None = None
    period_start: str | None = None
    share: float | None = None
    growth: float | None = None
    authors: int | None = None
    sources: int | None = None
    ring: str | None = None
    channels: dict[str, int] = field(default_factory=dict)  # passages per channel this period
    watch_passages: int | None = None

    def as_baseline(self) -> dict:
        """JSON-ready form, stored with a signpost."""
        return {"run_id": self.run_id, "period_start": self.period_start, "share": self.share,
                "growth": self.growth, "authors": self.authors, "sources": self.sources,
                "ring": self.ring, "channels": dict(self.channels),
                "watch_passages": self.watch_passages}

    @classmethod
    def from_baseline(cls, data: dict) -> Indicators:
        """The inverse of `as_baseline`."""
        known = {k: data.get(k) for k in ("run_id", "period_start", "share", "growth", "authors",
                                           "sources", "ring", "watch_passages")}
        return cls(channels=dict(data.get("channels") or {}), **known)


@dataclass(frozen=True)
class Firing:
    """A signpost that fired: the value that crossed the threshold and what moved."""

    value: float
    moved: str


def signpost_value(kind: str, now: Indicators, baseline: Indicators) -> float | None:
    """The indicator a signpost watches, now (None = not measurable now)."""
    if kind == "share":
        return now.share
    if kind == "growth":
        return now.growth
    if kind == "authors":
        return None if now.authors is None else float(now.authors)
    if kind == "new_channel":
        new = [c for c, n in now.channels.items() if n > 0 and not baseline.channels.get(c)]
        return float(max((now.channels[c] for c in new), default=0))
    if kind == "watch_term":
        return None if now.watch_passages is None else float(now.watch_passages)
    raise ValueError(f"unknown signpost kind {kind!r}")


def evaluate_signpost(kind: str, threshold: float, baseline: Indicators,
                      now: Indicators) -> Firing | None:
    """Whether a signpost fires on `now`, given the indicators when it was set.

    It fires only on a radar run newer than its baseline (new data since the
    decision) and when the value reaches the threshold; for counts (authors,
    watch passages) the value must also exceed the baseline, so a signpost set
    when the threshold was already met waits for the indicator to grow.
    """
    if now.run_id is None or (baseline.run_id is not None and now.run_id <= baseline.run_id):
        return None
    value = signpost_value(kind, now, baseline)
    if value is None or value < threshold:
        return None
    if kind in ("authors", "watch_term"):
        before = baseline.authors if kind == "authors" else baseline.watch_passages
        if before is not None and value <= before:
            return None
    return Firing(float(value), moved_since(kind, threshold, baseline, now))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:g}"


def moved_since(kind: str, threshold: float, baseline: Indicators, now: Indicators) -> str:
    """What moved between the decision's baseline and now, in words (one line)."""
    parts = [f"signpost: {SIGNPOST_TEXT[kind].format(t=threshold)}"]
    if kind == "watch_term":
        parts.append(f"watch passages {_num(baseline.watch_passages)} → {_num(now.watch_passages)}")
    else:
        parts.append(f"share {_pct(baseline.share)} → {_pct(now.share)}")
        if baseline.growth is not None or now.growth is not None:
            g0 = "–" if baseline.growth is None else f"{baseline.growth:+.2f}"
            g1 = "–" if now.growth is None else f"{now.growth:+.2f}"
            parts.append(f"growth {g0} → {g1}")
        parts.append(f"distinct authors {_num(baseline.authors)} → {_num(now.authors)}")
        parts.append(f"sources {_num(baseline.sources)} → {_num(now.sources)}")
        if baseline.ring != now.ring:
            parts.append(f"ring {baseline.ring or 'off'} → {now.ring or 'off'}")
        new = sorted(c for c, n in now.channels.items() if n > 0 and not baseline.channels.get(c))
        if new:
            parts.append("new channel" + ("s" if len(new) > 1 else "") + ": " + ", ".join(new))
    since = f" (since {baseline.period_start})" if baseline.period_start else ""
    return "; ".join(parts) + since


# --- the watch list -----------------------------------------------------------------------


@dataclass(frozen=True)
class WatchMove:
    """A watch item that moved in its latest period."""

    passages: int
    baseline: float        # mean passages per period over the baseline window
    growth: float


def watch_moved(counts: Sequence[int], min_passages: int, min_growth: float,
                baseline_periods: int) -> WatchMove | None:
    """Whether the latest of `counts` (passages per period, oldest first, gaps as 0) moved.

    Moved = at least `min_passages` passages and growth (v + 1) / (baseline + 1) - 1
    of at least `min_growth`, the baseline being the mean of the `baseline_periods`
    periods before it (0 when there are none: a first appearance counts).
    """
    if not counts:
        return None
    v = int(counts[-1])
    window = list(counts[-1 - baseline_periods:-1]) if baseline_periods > 0 else []
    base = sum(window) / len(window) if window else 0.0
    growth = (v + 1) / (base + 1) - 1
    if v >= min_passages and growth >= min_growth:
        return WatchMove(v, round(base, 3), round(growth, 3))
    return None
