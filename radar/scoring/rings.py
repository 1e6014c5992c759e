"""Stages, rings, whose-voice rules and movement: what the radar shows, in words.

Stage (where the topic is in its life):
  weak signal  rising, still little seen (KEM frequency at or below the median, or new)
  emerging     rising and already widely seen
  established  present, steady, known for at least two periods
  fading       share fallen to half its baseline or less
  (none)       too little evidence to call (fewer than min_volume passages)

Rising = at least `min_volume` passages, a baseline to compare with (any
period after the first; `warmup_periods` > 0 holds back more), and a
discovery of the calibrated test (radar/novelty.py): the topic's volume or its
novel passages (passages with this period's surging terms) rose beyond the
corpus's own period-to-period noise, at false-discovery rate `fdr` over all
topics of the period, by a rate ratio whose lower confidence bound is at least
1 + min_growth. (Evidence built without the test, `significant` None, falls
back to the earlier heuristic: a Kleinberg burst with a Poisson z >=
min_burst_z, or growth >= min_growth with a z >= min_z.)

Ring (how close to acting):
  Act      emerging, score >= act_score, broad voice
  Prepare  emerging below act_score, or weak signal with score >= prepare_score; broad voice
  Watch    any other rising topic, and any rising topic with a narrow voice
  Monitor  on the radar but not rising (established, fading, quiet)
  (off)    no passages in the period and none in the baseline window

Narrow voice: carried by fewer than `min_sources` sources, an effective number
of sources below `min_effective_sources`, or (for a mostly citizen topic) fewer
than `min_authors` distinct authors or one author writing more than
`max_top_author_share` of its passages. A narrow topic never rises above Watch.
Citizen quotes are shown only with at least `min_authors` (k) distinct authors.
"""

from __future__ import annotations

from dataclasses import dataclass

from radar.core import disclosure
from radar.core.config import ScoringConfig

RINGS = ("Act", "Prepare", "Watch", "Monitor")
STAGES = ("weak signal", "emerging", "established", "fading")
FLAG_STAGES = ("weak signal", "emerging")
FLAG_RINGS = ("Act", "Prepare")
# Evidence built without the calibrated test (hand-made, `significant` None) has no notion of
# a short history: its heuristic keeps a warm-up of this many periods.
HEURISTIC_WARMUP = 3


_D = ScoringConfig  # one source of truth for the defaults (documented in docs/scoring.md)


@dataclass
class RingRules:
    """Thresholds for stages and rings (from ScoringConfig)."""

    min_volume: int = _D.min_volume
    min_growth: float = _D.min_growth
    min_z: float = _D.min_z
    min_burst_z: float = _D.min_burst_z
    fade_growth: float = _D.fade_growth
    act_score: float = _D.act_score
    prepare_score: float = _D.prepare_score
    min_sources: int = _D.min_sources
    min_effective_sources: float = _D.min_effective_sources
    min_authors: int = _D.min_authors
    max_top_author_share: float = _D.max_top_author_share
    warmup_periods: int = _D.warmup_periods

    @classmethod
    def from_config(cls, sc) -> RingRules:
        """Take the matching fields of a ScoringConfig."""
        return cls(**{f: getattr(sc, f) for f in cls.__dataclass_fields__ if hasattr(sc, f)})


@dataclass
class Evidence:
    """What the rules look at for one topic in one period."""

    period_index: int
    volume: int
    expected: float
    growth: float
    z: float
    burst: float
    novelty: float
    quadrant: str | None
    score: float
    sources: int
    effective_sources: float
    citizen_share: float
    authors: int
    top_author_share: float
    age: int  # periods since first seen (0 = first period), -1 if never
    expectation_share: float = 0.0
    expectation_growth: float = 0.0
    gap_risk: bool = False
    significant: bool | None = None   # calibrated test (radar.novelty); None = not run
    new_theme: bool = False           # holds a new theme (radar.scoring.themes): a weak signal
    headline: str = ""                # the one-sentence reason (radar.novelty / signals)


def is_rising(e: Evidence, r: RingRules) -> bool:
    """Enough passages, past the warm-up, and a burst or significant growth."""
    if e.volume < r.min_volume or e.period_index < effective_warmup(r.warmup_periods):
        return False
    if e.significant is not None:
        return e.significant
    if e.period_index < max(r.warmup_periods, HEURISTIC_WARMUP):
        return False
    if e.burst > 0 and e.z >= r.min_burst_z:
        return True
    return e.growth >= r.min_growth and e.z >= r.min_z


def effective_warmup(warmup_periods: int) -> int:
    """Periods at the start of the data that are never judged: the first one (nothing before it
    to compare with) and any more the settings hold back. The calibrated test accounts for a
    short history itself (a baseline of one or two periods needs proportionally more evidence,
    and the noise is then learned across topics), so no fixed warm-up is needed."""
    return max(1, int(warmup_periods))


def narrow_voice(e: Evidence, r: RingRules) -> bool:
    """One source, one dominant source, or (for citizen topics) a handful of loud authors."""
    if e.volume == 0:
        return False
    if e.sources < r.min_sources or e.effective_sources < r.min_effective_sources:
        return True
    if e.citizen_share >= 0.5:
        return e.authors < r.min_authors or e.top_author_share > r.max_top_author_share
    return False


def show_quotes(authors: int, r: RingRules) -> bool:
    """Citizen quotes may be shown only with at least k distinct authors (k-anonymity):
    the one rule of `radar.core.disclosure`, with k = min_authors."""
    return disclosure.allow(channel="citizen", authors=authors, k=r.min_authors)


def stage(e: Evidence, r: RingRules) -> str | None:
    """The topic's life stage in this period, or None when there is too little to call."""
    if is_rising(e, r):
        low_visibility = e.quadrant in ("weak signal", "latent", None) or e.novelty >= 0.5
        return "weak signal" if low_visibility else "emerging"
    judged = e.period_index >= effective_warmup(r.warmup_periods)
    if e.new_theme and judged:
        return "weak signal"
    if judged and e.expected >= r.min_volume and e.growth <= r.fade_growth:
        return "fading"
    if e.volume >= r.min_volume and e.age >= 2:
        return "established"
    return None


def ring(e: Evidence, stage_: str | None, narrow: bool, r: RingRules) -> str | None:
    """The radar ring, or None when the topic is off the radar this period."""
    if e.volume == 0 and e.expected <= 0:
        return None
    if stage_ in FLAG_STAGES:
        if narrow or (e.new_theme and not is_rising(e, r)):
            return "Watch"  # one voice; or a new theme inside a topic that did not itself rise
        if stage_ == "emerging":
            return "Act" if e.score >= r.act_score else "Prepare"
        return "Prepare" if e.score >= r.prepare_score else "Watch"
    return "Monitor"


def movement(previous: str | None, current: str | None) -> str | None:
    """new | moved in | moved out | unchanged | left, against the previous radar (None: never on it)."""
    if current is None:
        return "left" if previous is not None else None
    if previous is None:
        return "new"
    before, now = RINGS.index(previous), RINGS.index(current)
    if now < before:
        return "moved in"
    if now > before:
        return "moved out"
    return "unchanged"


def period_movement(previous: str | None, current: str | None, seen_before: bool) -> str | None:
    """Movement against the previous period's radar; a topic is 'new' only once.

    Like `movement`, except that a topic returning to the radar after having
    left it (`seen_before`: on the radar in some earlier period) is 'back'.
    """
    move = movement(previous, current)
    return "back" if move == "new" and seen_before else move


def reasons(e: Evidence, stage_: str | None, ring_: str | None, narrow: bool, r: RingRules) -> str:
    """The ring and stage explained in one line for analysts."""
    parts = []
    if ring_ is None:
        return "off the radar: no passages in this period or its baseline"
    if e.headline:
        parts.append(e.headline)
    parts.append(f"{stage_ or 'no stage'} -> {ring_} (score {e.score:.0f})")
    if e.expected > 0:
        parts.append(f"{e.volume} passages vs {e.expected:.1f} expected "
                     f"(growth {e.growth:+.0%}, z {e.z:.1f})")
    else:
        parts.append(f"{e.volume} passages, none expected")
    if e.burst > 0:
        parts.append(f"burst {e.burst:.1f}")
    if e.novelty > 0:
        parts.append(f"first seen {e.age} period(s) ago")
    if e.quadrant:
        parts.append(f"KEM {e.quadrant}")
    parts.append(f"{e.sources} sources (effective {e.effective_sources:.1f})")
    if e.citizen_share > 0:
        parts.append(f"{e.authors} citizen authors, top author {e.top_author_share:.0%}")
    if e.expectation_share > 0 and e.expectation_growth >= r.min_growth:
        parts.append(f"expectations rising: {e.expectation_share:.0%} of passages voice a demand "
                     f"(growth {e.expectation_growth:+.0%})")
    if e.gap_risk:
        parts.append("gap risk: citizens raise it more and more, policy documents do not answer")
    if narrow:
        parts.append("narrow voice: capped at Watch")
    if e.volume < r.min_volume and stage_ is None:
        parts.append(f"fewer than {r.min_volume} passages")
    return "; ".join(parts)
