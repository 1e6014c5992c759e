"""Emergence metrics over topic time series: pure functions, no database.

Every function takes arrays whose last axis is time (periods in order), so the
same code scores one topic (shape (T,)) or all topics at once (shape (K, T)).
A value at period t uses only periods 0..t: nothing looks ahead, so replaying
the series period by period gives the same numbers as scoring it at once.

Formulas and defaults are documented in docs/scoring.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

# Weights of the composite score (sum to 1); see docs/scoring.md.
SCORE_WEIGHTS: dict[str, float] = {
    "growth": 0.30,
    "burst": 0.20,
    "novelty": 0.15,
    "breadth": 0.15,
    "volume": 0.10,
    "expectation": 0.10,
}


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den is 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=np.broadcast_to(den, out.shape) != 0)
    return out


def share(volume: np.ndarray, total: np.ndarray) -> np.ndarray:
    """The topic's share of all passages in each period (0 when the period is empty)."""
    return safe_div(volume, total)


def trailing_mean(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the `window` periods strictly before each period, and how many there were.

    The first period has no history: its mean is 0 with a count of 0.
    """
    x = np.asarray(x, dtype=float)
    T = x.shape[-1]
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    idx = np.arange(T)
    lo = np.maximum(idx - window, 0)
    n = idx - lo
    total = csum[..., idx] - csum[..., lo]
    return safe_div(total, n), n


def expected_volume(volume: np.ndarray, total: np.ndarray, window: int) -> np.ndarray:
    """Passages the topic would have in each period at its baseline share.

    Baseline share = mean share over the previous `window` periods; expected =
    baseline share x passages in this period. Comparing shares, not counts,
    keeps a corpus that simply grows (a new source added) from looking like a
    trend everywhere.
    """
    base_share, _ = trailing_mean(share(volume, total), window)
    return base_share * np.asarray(total, dtype=float)


def growth(volume: np.ndarray, total: np.ndarray, window: int, pseudo: float = 1.0) -> np.ndarray:
    """Growth against the baseline: (volume + a) / (expected + a) - 1, a = 1 passage.

    0 means on baseline, 1 means doubled, -1 means vanished. The pseudo-count
    keeps a first appearance finite (3 passages from nothing = growth 3). The
    first period has no baseline and gets 0.
    """
    volume = np.asarray(volume, dtype=float)
    expected = expected_volume(volume, total, window)
    g = (volume + pseudo) / (expected + pseudo) - 1.0
    g[..., 0] = 0.0
    return g


def surprise(volume: np.ndarray, total: np.ndarray, window: int) -> np.ndarray:
    """A Poisson z-score of the excess: (volume - expected) / sqrt(expected + 1).

    Growth says how much, this says how sure: 6 passages against an expected 3
    is growth 0.75 but z 1.5, while 60 against 30 is z 5.4.
    """
    volume = np.asarray(volume, dtype=float)
    expected = expected_volume(volume, total, window)
    z = (volume - expected) / np.sqrt(expected + 1.0)
    z[..., 0] = 0.0
    return z


def acceleration(g: np.ndarray) -> np.ndarray:
    """Change in growth since the previous period (0 in the first period)."""
    g = np.asarray(g, dtype=float)
    a = np.zeros_like(g)
    a[..., 1:] = g[..., 1:] - g[..., :-1]
    return a


def first_seen_index(volume: np.ndarray) -> np.ndarray:
    """Index of the first period with any volume (-1 if never)."""
    v = np.asarray(volume) > 0
    first = np.argmax(v, axis=-1)
    return np.where(v.any(axis=-1), first, -1)


def novelty(volume: np.ndarray, half_life: float = 2.0) -> np.ndarray:
    """How recently the topic first appeared: 0.5 ** (age / half_life), age in periods.

    1 in the period it first appears, 0.5 after `half_life` periods. 0 before
    it appears, and 0 for topics already present in the first period of the
    data: their real age is unknown, so they are treated as old.
    """
    volume = np.asarray(volume, dtype=float)
    T = volume.shape[-1]
    first = first_seen_index(volume)[..., None]
    age = np.arange(T) - first
    nov = np.power(0.5, np.maximum(age, 0) / half_life)
    return np.where((first > 0) & (age >= 0), nov, 0.0)


def effective_number(counts: Iterable[float]) -> float:
    """Effective number of sources: exp(Shannon entropy) of the count distribution.

    Ten sources carrying a topic equally give 10; one source with 91 of 100
    passages and nine with one each give about 1.6. Empty gives 0. The counts are summed in
    sorted order, so the same counts in any order (SQL groups arrive in any) give the same
    float, to the last bit.
    """
    c = np.sort(np.asarray([x for x in counts if x > 0], dtype=float))
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return float(math.exp(-(p * np.log(p)).sum()))


def top_share(counts: Iterable[float], top: int = 1) -> float:
    """Share of the total held by the `top` largest counts (0 when empty)."""
    c = sorted((x for x in counts if x > 0), reverse=True)
    total = sum(c)
    return float(sum(c[:top]) / total) if total else 0.0


def breadth(source_counts: Mapping[str, float]) -> tuple[int, float]:
    """(distinct sources, effective number of sources) from passages per carrier source.

    A syndicated story counts once in volume but once per carrier here, so ten
    sites carrying it are ten carriers of equal weight.
    """
    nonzero = [v for v in source_counts.values() if v > 0]
    return len(nonzero), effective_number(nonzero)


def voice(author_counts: Mapping[str, float]) -> tuple[int, float]:
    """(distinct pseudonymous authors, share of the most active author) of citizen passages."""
    nonzero = [v for v in author_counts.values() if v > 0]
    return len(nonzero), top_share(nonzero, 1)


def channel_mix(channel_volume: Mapping[str, np.ndarray], volume: np.ndarray) -> dict[str, np.ndarray]:
    """Each channel's share of the topic's passages (news, policy, citizen)."""
    return {ch: safe_div(v, volume) for ch, v in channel_volume.items()}


def expectation_share(expectation: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Share of the topic's passages that voice a demand, wish or complaint."""
    return safe_div(expectation, volume)


def expectation_growth(expectation: np.ndarray, total: np.ndarray, window: int) -> np.ndarray:
    """Growth of the topic's expectation passages against their own baseline.

    Same formula as `growth`, so rising demands show even while the topic's
    overall volume is flat.
    """
    return growth(expectation, total, window)


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def score_components(
    growth_: np.ndarray,
    burst: np.ndarray,
    novelty_: np.ndarray,
    effective_sources: np.ndarray,
    volume: np.ndarray,
    expectation_growth_: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each part of the composite score on a 0..1 scale (see docs/scoring.md)."""
    return {
        # 8x the baseline share (log2 ratio 3) saturates.
        "growth": _clip01(np.log2(np.maximum(1.0 + np.asarray(growth_, float), 1e-9)) / 3.0),
        # 5 nats of burst strength gives 0.63, 15 gives 0.95.
        "burst": 1.0 - np.exp(-np.maximum(np.asarray(burst, float), 0.0) / 5.0),
        "novelty": _clip01(np.asarray(novelty_, float)),
        # 8 equally active sources saturate; one source gives 0.
        "breadth": _clip01(np.log(np.maximum(np.asarray(effective_sources, float), 1.0)) / math.log(8)),
        # 100 passages saturate: a lone passage cannot score high on growth alone.
        "volume": _clip01(np.log10(1.0 + np.asarray(volume, float)) / 2.0),
        "expectation": _clip01(
            np.log2(np.maximum(1.0 + np.asarray(expectation_growth_, float), 1e-9)) / 3.0
        ),
    }


class WeightedScorer:
    """The default emergence scorer: a weighted sum of the components, 0..100.

    Scoring is pluggable: `radar.scoring.score.compute_signals` takes any object with
    a `score(components) -> array` method (components as from `score_components`).
    """

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.weights = dict(weights or SCORE_WEIGHTS)
        unknown = set(self.weights) - set(SCORE_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown score components {sorted(unknown)} "
                             f"(known: {', '.join(SCORE_WEIGHTS)})")

    def score(self, components: Mapping[str, np.ndarray]) -> np.ndarray:
        """The score of every topic and period."""
        return composite_score(components, self.weights)


def composite_score(
    components: Mapping[str, np.ndarray], weights: Mapping[str, float] | None = None
) -> np.ndarray:
    """The emergence score, 0..100: a weighted sum of the components (higher = more emergent)."""
    weights = weights or SCORE_WEIGHTS
    total = sum(weights.values())
    out = None
    for name, w in weights.items():
        part = w * np.asarray(components[name], dtype=float)
        out = part if out is None else out + part
    return 100.0 * out / total
