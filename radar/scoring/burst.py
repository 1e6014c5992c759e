"""Burst detection: Kleinberg's two-state model for batched counts, run online.

Kleinberg (2002, "Bursty and hierarchical structure in streams", section 4)
models a topic's passages per period as binomial draws: in the base state 0 a
passage belongs to the topic with rate p0, in the burst state 1 with rate
p1 = s * p0. Entering the burst state costs gamma * ln(n); staying or leaving
is free. The cheapest state sequence (Viterbi) marks the bursts.

Two changes make it honest for a radar that must not look ahead:

- The base rate p0 at period t is the topic's rate over the `window` periods
  *before* t (smoothed, so a topic never seen before has a small but non-zero
  rate), never the rate of the whole series.
- The state at t is the end state of the cheapest path over periods 0..t. The
  forward pass of the Viterbi recursion gives exactly that: its cost at t uses
  only data up to t, so a later period can never change an earlier verdict.

`burst` is the strength of the current period: the cost saved by explaining it
with the burst rate instead of the base rate, in nats (0 when not in a burst).

False alarms: with s = 2 and gamma = 1, a stationary topic (binomial draws at a
constant rate) is in the burst state in well under 1% of periods once it has at
least ~5 expected passages per period (tests/test_scoring_burst.py measures it
on simulated series; docs/scoring.md records the figures). For topics with
fewer expected passages the rule ``volume >= min_volume`` in radar.scoring.rings keeps
single-passage blips off the radar.
"""

from __future__ import annotations

import numpy as np

# Prior pseudo-counts for the trailing base rate: half a passage over one
# typical period, so an unseen topic gets a rate of about 0.5 / N.
_PRIOR_PASSAGES = 0.5


def base_rate(counts: np.ndarray, totals: np.ndarray, window: int) -> np.ndarray:
    """Trailing topic rate before each period: (sum r + 0.5) / (sum d + 1).

    `counts` is (..., T) topic passages, `totals` (T,) all passages. Uses the
    `window` periods strictly before t; the first period gets the prior alone.
    """
    counts = np.asarray(counts, dtype=float)
    totals = np.asarray(totals, dtype=float)
    T = totals.shape[-1]
    csum_r = np.concatenate([np.zeros(counts.shape[:-1] + (1,)), np.cumsum(counts, axis=-1)], axis=-1)
    csum_d = np.concatenate([[0.0], np.cumsum(totals)])
    idx = np.arange(T)
    lo = np.maximum(idx - window, 0)
    prev_r = csum_r[..., idx] - csum_r[..., lo]
    prev_d = csum_d[idx] - csum_d[lo]
    # Half a passage of prior over the whole history: an unseen topic gets a
    # small rate, a seen one practically its observed rate.
    rate = (prev_r + _PRIOR_PASSAGES) / (prev_d + 1.0)
    # The first period has no history: nothing can be a burst against nothing,
    # so its base rate is its own rate.
    own = (counts[..., :1] + _PRIOR_PASSAGES) / (totals[:1] + 1.0)
    return np.concatenate([own, rate[..., 1:]], axis=-1)


def _cost(r: np.ndarray, d: np.ndarray, p: np.ndarray) -> np.ndarray:
    # Negative binomial log-likelihood without the binomial coefficient, which
    # is the same in both states and cancels.
    p = np.clip(p, 1e-12, 1 - 1e-9)
    return -(r * np.log(p) + (d - r) * np.log1p(-p))


def kleinberg_online(
    counts: np.ndarray,
    totals: np.ndarray,
    s: float = 2.0,
    gamma: float = 1.0,
    window: int = 6,
) -> tuple[np.ndarray, np.ndarray]:
    """Online two-state burst detection for each series.

    `counts` (K, T) or (T,): topic passages per period; `totals` (T,): all
    passages per period. Returns (state, strength), both shaped like `counts`:
    state 1 where the period ends the cheapest path in the burst state, and the
    burst strength (nats saved by the burst rate) there, 0 elsewhere.
    """
    counts = np.asarray(counts, dtype=float)
    totals = np.asarray(totals, dtype=float)
    squeeze = counts.ndim == 1
    if squeeze:
        counts = counts[None, :]
    K, T = counts.shape
    state = np.zeros((K, T), dtype=np.int8)
    strength = np.zeros((K, T))
    if T == 0:
        return (state[0], strength[0]) if squeeze else (state, strength)
    p0 = base_rate(counts, totals, window)
    p1 = np.minimum(s * p0, 0.9999)
    d = np.broadcast_to(totals, counts.shape)
    c0 = _cost(counts, d, p0)
    c1 = _cost(counts, d, p1)
    run0 = np.zeros(K)   # cheapest path cost ending in state 0
    run1 = np.full(K, np.inf)
    for t in range(T):
        enter = gamma * np.log(max(t + 1, 2))
        new0 = np.minimum(run0, run1) + c0[:, t]
        new1 = np.minimum(run0 + enter, run1) + c1[:, t]
        run0, run1 = new0, new1
        in_burst = run1 < run0
        state[:, t] = in_burst
        strength[:, t] = np.where(in_burst, np.maximum(c0[:, t] - c1[:, t], 0.0), 0.0)
    if squeeze:
        return state[0], strength[0]
    return state, strength
