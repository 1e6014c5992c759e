"""Scoring metrics on small hand-computed series (pure functions, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from radar.scoring import metrics as scoring
from radar.scoring.burst import base_rate, kleinberg_online
from radar.scoring.gap import expectation_gap
from radar.scoring.kem import kem_axes, quadrant, quadrants


def test_share_is_zero_for_an_empty_period():
    assert scoring.share(np.array([2, 0, 5]), np.array([10, 0, 20])).tolist() == [0.2, 0.0, 0.25]


def test_trailing_mean_uses_only_earlier_periods():
    mean, n = scoring.trailing_mean(np.array([1.0, 3.0, 5.0, 7.0]), window=2)
    assert mean.tolist() == [0.0, 1.0, 2.0, 4.0]
    assert n.tolist() == [0, 1, 2, 2]


def test_growth_by_hand():
    # shares 0.1, 0.1, 0.2 of 100 passages; baseline at t=2 is 0.1 -> expected 10
    vol, tot = np.array([10, 10, 20]), np.array([100, 100, 100])
    g = scoring.growth(vol, tot, window=6)
    assert g[0] == 0.0  # first period: no baseline
    assert g[1] == pytest.approx(0.0)
    assert g[2] == pytest.approx((20 + 1) / (10 + 1) - 1)


def test_growth_compares_shares_not_counts():
    # The corpus doubles and the topic doubles with it: no growth.
    g = scoring.growth(np.array([10, 20]), np.array([100, 200]), window=3)
    assert g[1] == pytest.approx(0.0)


def test_growth_of_a_first_appearance_is_finite_and_of_a_disappearance_is_minus_one_ish():
    g = scoring.growth(np.array([0, 0, 3]), np.array([50, 50, 50]), window=3)
    assert g[2] == pytest.approx(3.0)  # (3+1)/(0+1) - 1
    g = scoring.growth(np.array([40, 40, 0]), np.array([100, 100, 100]), window=3)
    assert g[2] == pytest.approx(1 / 41 - 1)


def test_surprise_and_acceleration():
    vol, tot = np.array([10, 10, 20]), np.array([100, 100, 100])
    z = scoring.surprise(vol, tot, window=3)
    assert z[2] == pytest.approx((20 - 10) / math.sqrt(11))
    a = scoring.acceleration(np.array([0.0, 0.5, 0.25]))
    assert a.tolist() == [0.0, 0.5, -0.25]


def test_novelty_halves_every_half_life_and_ignores_topics_present_from_the_start():
    nov = scoring.novelty(np.array([[0, 0, 4, 1, 0, 2], [3, 3, 3, 3, 3, 3]]), half_life=2.0)
    assert nov[0].tolist() == pytest.approx([0, 0, 1, 0.5**0.5, 0.5, 0.5**1.5])
    assert nov[1].tolist() == [0] * 6
    assert scoring.first_seen_index(np.array([[0, 0, 1], [0, 0, 0]])).tolist() == [2, -1]


def test_effective_number_of_sources():
    assert scoring.effective_number([5, 5, 5, 5]) == pytest.approx(4.0)
    assert scoring.effective_number([10]) == pytest.approx(1.0)
    assert scoring.effective_number([]) == 0.0
    skew = scoring.effective_number([91] + [1] * 9)
    assert 1.4 < skew < 1.8  # one dominant source is barely more than one


def test_effective_number_does_not_depend_on_the_order_of_the_counts():
    """SQL groups arrive in any order; a rerun on the same data gives the same floats."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        counts = rng.integers(1, 40, size=int(rng.integers(2, 30))).tolist()
        first = scoring.effective_number(counts)
        for _ in range(5):
            shuffled = rng.permutation(counts).tolist()
            assert scoring.effective_number(shuffled) == first  # to the last bit
            assert scoring.breadth(dict(enumerate(shuffled)))[1] == first


def test_breadth_counts_each_carrier_and_voice_the_top_author():
    assert scoring.breadth({"a": 3, "b": 3, "c": 0}) == (2, pytest.approx(2.0))
    authors, top = scoring.voice({"x": 6, "y": 2, "z": 2})
    assert authors == 3 and top == pytest.approx(0.6)
    assert scoring.voice({}) == (0, 0.0)


def test_channel_mix_and_expectation_share():
    vol = np.array([10, 0])
    mix = scoring.channel_mix({"news": np.array([5, 0]), "citizen": np.array([5, 0])}, vol)
    assert mix["news"].tolist() == [0.5, 0.0]
    assert scoring.expectation_share(np.array([2, 0]), vol).tolist() == [0.2, 0.0]


def test_composite_score_is_bounded_and_rewards_growth_burst_and_breadth():
    flat = scoring.score_components(np.array([0.0]), np.array([0.0]), np.array([0.0]),
                                    np.array([1.0]), np.array([10]), np.array([0.0]))
    hot = scoring.score_components(np.array([7.0]), np.array([30.0]), np.array([1.0]),
                                   np.array([8.0]), np.array([100]), np.array([7.0]))
    s_flat, s_hot = scoring.composite_score(flat)[0], scoring.composite_score(hot)[0]
    assert 0 <= s_flat < 10
    assert s_hot > 99 and s_hot <= 100
    vanished = scoring.score_components(np.array([-1.0]), np.array([0.0]), np.array([0.0]),
                                        np.array([0.0]), np.array([0]), np.array([-1.0]))
    assert scoring.composite_score(vanished)[0] == pytest.approx(0.0)


# --- bursts -------------------------------------------------------------------

def test_base_rate_has_no_look_ahead():
    counts = np.array([5.0, 5.0, 50.0])
    totals = np.array([100.0, 100.0, 100.0])
    rate = base_rate(counts, totals, window=6)
    assert rate[1] == pytest.approx((5 + 0.5) / (100 + 1))
    assert rate[2] == pytest.approx((10 + 0.5) / (200 + 1))  # the burst itself is not in it


def test_burst_detected_at_the_jump_and_never_revised_by_later_periods():
    totals = np.full(10, 500)
    x = np.array([10, 10, 10, 10, 10, 10, 40, 60, 10, 10])
    state, strength = kleinberg_online(x, totals)
    assert state[:6].tolist() == [0] * 6
    assert state[6] == 1 and strength[6] > 0
    assert state[9] == 0 and strength[9] == 0
    # Online: the verdict at t does not change when later periods are cut off.
    for t in range(1, 10):
        s_prefix, _ = kleinberg_online(x[: t + 1], totals[: t + 1])
        assert s_prefix.tolist() == state[: t + 1].tolist()


def test_burst_false_alarm_rate_on_stationary_series():
    """Documented behaviour: under 1% of periods after the warm-up for a steady topic."""
    rng = np.random.default_rng(7)
    rates = []
    for d, p in [(500, 0.02), (100, 0.05), (2000, 0.01)]:
        counts = rng.binomial(d, p, size=(500, 24))
        state, _ = kleinberg_online(counts, np.full(24, d), s=2.0, gamma=2.0, window=6)
        rates.append(state[:, 6:].mean())
    assert max(rates) < 0.01


# --- KEM ----------------------------------------------------------------------

def test_kem_axes_by_hand():
    df = np.array([[10.0, 10.0], [0.0, 5.0]])
    nn = np.array([100.0, 100.0])
    freq, grow = kem_axes(df, nn, window=6, time_weight=0.05)
    # topic 0: DoD 0.1 in both periods, weights 0.95 and 1 -> mean 0.0975; flat growth
    assert freq[0, 1] == pytest.approx((0.1 * 0.95 + 0.1) / 2)
    assert grow[0, 1] == pytest.approx(0.0)
    # topic 1: from 0 to 0.05 with 0.005 (half a document) added: rate 11
    assert grow[1, 1] == pytest.approx((0.05 + 0.005) / 0.005 - 1)
    assert grow[:, 0].tolist() == [0.0, 0.0]


def test_kem_quadrants_split_at_medians_and_never_call_shrinking_a_signal():
    assert quadrant(0.01, 0.5, 0.05, 0.1) == "weak signal"
    assert quadrant(0.10, 0.5, 0.05, 0.1) == "strong signal"
    assert quadrant(0.01, 0.0, 0.05, 0.1) == "latent"
    assert quadrant(0.10, 0.0, 0.05, 0.1) == "well-known"
    freq = np.array([[0.1], [0.2], [0.3]])
    grow = np.array([[-0.5], [-0.3], [-0.1]])  # everything shrinks
    q = quadrants(freq, grow, np.array([[True], [True], [False]]))
    assert q[0, 0] == "latent" and q[1, 0] == "well-known" and q[2, 0] is None


# --- expectation gap ------------------------------------------------------------

def test_expectation_gap_flags_rising_citizen_attention_policy_ignores():
    # Topic 0: citizens turn to it in periods 3-5, policy never mentions it.
    citizen = np.array([[0, 0, 0, 10, 10, 10], [10, 10, 10, 10, 10, 10]])
    policy = np.array([[0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 5]])
    ctot, ptot = np.array([100] * 6), np.array([50] * 6)
    res = expectation_gap(citizen, policy, ctot, ptot, window=3, gap_min=0.02, min_volume=3)
    assert res.citizen_attention[0, 5] == pytest.approx(0.1)
    assert res.policy_attention[0, 5] == 0.0
    assert res.gap[0, 5] == pytest.approx(0.1)
    assert res.risk[0, 5]
    assert not res.risk[1].any()  # steady attention answered by policy
    assert not res.risk[0, :3].any()


def test_expectation_gap_unjudgeable_without_policy_documents():
    res = expectation_gap(np.array([[0, 5, 10]]), np.array([[0, 0, 0]]),
                          np.array([10, 10, 10]), np.array([0, 0, 0]), window=1)
    assert np.isnan(res.gap).all() and not res.risk.any()
