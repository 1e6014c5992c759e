"""Keyword Emergence Map (Yoon 2012) over topics instead of keywords.

Yoon, J. (2012). Detecting weak signals for long-term business opportunities
using text mining of Web news. Expert Systems with Applications 39(16).

For topic i in period j of a window ending at the current period n:

    DoV_ij = (TF_ij / NN_j) * (1 - tw * (n - j))      degree of visibility
    DoD_ij = (DF_ij / NN_j) * (1 - tw * (n - j))      degree of diffusion

with TF = passages of the topic, DF = distinct documents (stories) carrying
it, NN = all documents in the period and tw = 0.05 the time weight that makes
recent periods count more. The Keyword Emergence Map plots, per topic, the
average document frequency (x, here as the average weighted DoD over the
window) against the average increasing rate of DoD (y, the geometric mean of
period-to-period ratios). Split at the medians over the topics present:

    high growth, low frequency  -> weak signal
    high growth, high frequency -> strong signal
    low growth,  low frequency  -> latent
    low growth,  high frequency -> well-known

One deviation from the paper, documented in docs/scoring.md: the growth split
is max(median, 0), so a shrinking topic is never called a signal even in a
period where almost everything shrinks.
"""

from __future__ import annotations

import numpy as np

from radar.scoring.metrics import safe_div

QUADRANTS = ("weak signal", "strong signal", "latent", "well-known")


def degrees(counts: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Unweighted degree per period: counts / NN (DoV from passages, DoD from documents)."""
    return safe_div(counts, nn)


def kem_axes(
    df: np.ndarray, nn: np.ndarray, window: int = 6, time_weight: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, growth) per topic and period, each using only the window ending there.

    `df` (K, T) documents per topic, `nn` (T,) documents per period. Frequency
    is the mean time-weighted DoD over the last `window` periods; growth is
    the geometric-mean rate of DoD from one period to the next minus 1 (0 = flat),
    with half a document added to every period so appearing from zero is finite.
    """
    df = np.atleast_2d(np.asarray(df, dtype=float))
    nn = np.asarray(nn, dtype=float)
    K, T = df.shape
    dod = degrees(df, nn)
    eps = safe_div(np.full(T, 0.5), nn)
    freq = np.zeros((K, T))
    grow = np.zeros((K, T))
    for n in range(T):
        lo = max(0, n - window + 1)
        j = np.arange(lo, n + 1)
        w = np.maximum(1.0 - time_weight * (n - j), 0.0)
        freq[:, n] = (dod[:, j] * w).mean(axis=1)
        if n > lo:
            prev = dod[:, j[:-1]] + eps[j[:-1]]
            cur = dod[:, j[1:]] + eps[j[1:]]
            logs = np.log(np.maximum(safe_div(cur, prev), 1e-12))
            grow[:, n] = np.exp(logs.mean(axis=1)) - 1.0
    return freq, grow


def quadrants(freq: np.ndarray, grow: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The KEM quadrant of every topic and period (None where the topic is absent).

    Splits are the medians over the topics `present` in that period; the
    growth split is never below 0.
    """
    freq = np.atleast_2d(freq)
    grow = np.atleast_2d(grow)
    present = np.atleast_2d(present).astype(bool)
    K, T = freq.shape
    out = np.full((K, T), None, dtype=object)
    for t in range(T):
        mask = present[:, t]
        if not mask.any():
            continue
        f_split = float(np.median(freq[mask, t]))
        g_split = max(float(np.median(grow[mask, t])), 0.0)
        for k in np.flatnonzero(mask):
            out[k, t] = quadrant(freq[k, t], grow[k, t], f_split, g_split)
    return out


def quadrant(freq: float, grow: float, f_split: float, g_split: float) -> str:
    """One topic's quadrant given the splits (growth above the split = a signal)."""
    high_growth = grow > g_split
    high_freq = freq > f_split
    if high_growth:
        return "strong signal" if high_freq else "weak signal"
    return "well-known" if high_freq else "latent"
