"""Expectation gap: citizen attention against policy attention, per topic and area.

Over the last `window` periods (ending at the current one):

    citizen_attention = topic's citizen passages / all citizen passages
    policy_attention  = topic's policy passages  / all policy passages
    expectation_gap   = citizen_attention - policy_attention   (share points)

A topic is a gap risk (the service may be falling behind what people expect)
when the gap is at least `gap_min`, citizen attention rose against the window
before, policy attention rose less than citizen attention did, and citizens
wrote at least `min_volume` passages on it in the window. Without any policy
(or citizen) passages in the window the gap cannot be judged: it is NaN and
never a risk. Attention shares add up, so the gap of a service area is the sum
of its topics' gaps (the `area_gaps` view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radar.scoring.metrics import safe_div


@dataclass
class GapResult:
    """Per topic and period (arrays shaped (K, T))."""

    citizen_attention: np.ndarray
    policy_attention: np.ndarray
    gap: np.ndarray
    risk: np.ndarray


def window_sum(x: np.ndarray, window: int, lag: int = 0) -> np.ndarray:
    """Sum over the `window` periods ending `lag` windows before each period."""
    x = np.asarray(x, dtype=float)
    T = x.shape[-1]
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    end = np.arange(T) + 1 - lag * window
    start = end - window
    end_c = np.clip(end, 0, T)
    start_c = np.clip(start, 0, T)
    return csum[..., end_c] - csum[..., start_c]


def expectation_gap(
    citizen: np.ndarray,
    policy: np.ndarray,
    citizen_total: np.ndarray,
    policy_total: np.ndarray,
    window: int = 3,
    gap_min: float = 0.02,
    min_volume: int = 3,
) -> GapResult:
    """Citizen vs policy attention per topic and period, and the gap-risk flag."""
    citizen = np.atleast_2d(np.asarray(citizen, dtype=float))
    policy = np.atleast_2d(np.asarray(policy, dtype=float))
    c_win, c_tot = window_sum(citizen, window), window_sum(citizen_total, window)
    p_win, p_tot = window_sum(policy, window), window_sum(policy_total, window)
    c_now, p_now = safe_div(c_win, c_tot), safe_div(p_win, p_tot)
    c_prev = safe_div(window_sum(citizen, window, 1), window_sum(citizen_total, window, 1))
    p_prev = safe_div(window_sum(policy, window, 1), window_sum(policy_total, window, 1))
    judgeable = (c_tot > 0) & (p_tot > 0)
    gap = np.where(judgeable, c_now - p_now, np.nan)
    had_before = window_sum(citizen_total, window, 1) > 0
    c_rise = c_now - c_prev
    risk = (
        judgeable
        & had_before
        & (np.nan_to_num(gap, nan=-1.0) >= gap_min)
        & (c_rise > 0)
        & ((p_now - p_prev) < c_rise)
        & (c_win >= min_volume)
    )
    return GapResult(c_now, p_now, gap, risk)
