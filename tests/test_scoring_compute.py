"""The whole scoring of a hand-built series, without a database."""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from radar.core.config import ScoringConfig
from radar.scoring.inputs import TopicSeries, empty_series
from radar.scoring.signals import compute_signals

PERIODS = [date(2024, m, 1) for m in range(1, 9)]


def series(rows: dict[int, list[int]], citizen: dict[int, list[int]] | None = None) -> TopicSeries:
    """Topics with passage counts per period; 6 equal sources, 10 authors, all news unless given."""
    ids = sorted(rows)
    P = np.array([rows[t] for t in ids], dtype=float)
    K, T = P.shape
    cit = np.array([(citizen or {}).get(t, [0] * T) for t in ids], dtype=float)
    channels = {"news": P - cit, "policy": np.zeros((K, T)), "citizen": cit}
    total = P.sum(axis=0) + 20  # plus outliers
    return TopicSeries(
        topic_ids=ids, periods=PERIODS[:T], passages=P, documents=P.copy(),
        expectation=np.zeros((K, T)), channel_passages=channels,
        sources=np.where(P > 0, 6, 0).astype(float), effective_sources=np.where(P > 0, 6.0, 0.0),
        authors=np.where(cit > 0, 10, 0).astype(float), top_author_share=np.where(cit > 0, 0.1, 0.0),
        total_passages=total, total_documents=total.copy(),
        channel_totals={"news": total - cit.sum(axis=0), "policy": np.zeros(T),
                        "citizen": cit.sum(axis=0)},
    )


def by_key(rows):
    return {(r["topic_id"], r["period_start"].month): r for r in rows}


def test_empty_series_scores_nothing():
    assert compute_signals(empty_series(), ScoringConfig()) == []


def test_steady_rising_and_vanishing_topics():
    s = series({
        0: [20, 20, 20, 20, 20, 20, 20, 20],   # steady
        1: [0, 0, 0, 0, 4, 8, 16, 32],          # appears in May and doubles
        2: [15, 15, 15, 15, 0, 0, 0, 0],        # disappears after April
    })
    rows = by_key(compute_signals(s, ScoringConfig()))
    # First period: no baseline, no growth, nothing flagged.
    assert rows[(0, 1)]["growth"] == 0.0 and rows[(0, 1)]["stage"] is None
    assert all(rows[(0, m)]["stage"] in ("established", None) for m in range(1, 9))
    assert all(rows[(0, m)]["ring"] == "Monitor" for m in range(1, 9))
    # The newcomer is a weak signal in its first month, new on the radar.
    may = rows[(1, 5)]
    assert may["stage"] == "weak signal" and may["novelty"] == 1.0 and may["movement"] == "new"
    assert may["ring"] in ("Prepare", "Watch")
    assert rows[(1, 8)]["ring"] in ("Act", "Prepare")
    assert (1, 4) not in rows  # never seen before May: no row, not on the radar
    # The vanished topic fades, then leaves the radar once its baseline forgets it.
    assert rows[(2, 5)]["stage"] == "fading" and rows[(2, 5)]["ring"] == "Monitor"
    assert rows[(2, 5)]["growth"] < -0.9


def test_a_topic_that_disappears_leaves_with_a_left_row():
    s = series({0: [10] * 8, 1: [6, 6, 0, 0, 0, 0, 0, 0]})
    rows = compute_signals(s, ScoringConfig(baseline_periods=2))
    r = by_key(rows)
    assert r[(1, 5)]["ring"] is None and r[(1, 5)]["movement"] == "left"
    assert r[(1, 5)]["previous_ring"] == "Monitor"
    assert (1, 6) not in r  # off and already gone: nothing more to say


def test_every_period_compares_with_the_period_before():
    s = series({0: [10] * 6, 1: [0, 0, 0, 2, 8, 20]})
    rows = compute_signals(s, ScoringConfig())
    by = by_key(rows)
    # Each period's previous_ring is the topic's ring in the period before (same replay).
    for (topic, month), row in by.items():
        before = by.get((topic, month - 1))
        assert row["previous_ring"] == (before["ring"] if before else None)
    assert by[(0, 1)]["movement"] == "new"  # the first period: everything enters
    assert all(by[(0, m)]["movement"] == "unchanged" for m in range(2, 7))
    assert by[(1, 4)]["movement"] == "new" and by[(1, 4)]["previous_ring"] is None
    assert by[(1, 6)]["movement"] in ("moved in", "unchanged")
    assert sum(r["movement"] == "new" for r in rows if r["period_start"] == PERIODS[5]) == 0


def test_a_topic_is_new_once_and_back_when_it_returns():
    s = series({0: [10] * 8, 1: [6, 6, 0, 0, 0, 0, 9, 9]})
    by = by_key(compute_signals(s, ScoringConfig(baseline_periods=2)))
    assert by[(1, 1)]["movement"] == "new"
    assert by[(1, 5)]["movement"] == "left"
    assert (1, 6) not in by  # off and already gone: no row
    assert by[(1, 7)]["movement"] == "back" and by[(1, 7)]["previous_ring"] is None
    assert by[(1, 8)]["movement"] in ("unchanged", "moved in", "moved out")
    assert [r["movement"] for k, r in sorted(by.items()) if k[0] == 1].count("new") == 1


def test_citizen_only_topic_with_few_authors_is_narrow_and_hides_quotes():
    s = series({0: [10] * 6, 1: [0, 0, 0, 4, 10, 25]}, citizen={1: [0, 0, 0, 4, 10, 25]})
    s.authors[1] = [0, 0, 0, 2, 3, 3]
    rows = by_key(compute_signals(s, ScoringConfig()))
    june = rows[(1, 6)]
    assert june["citizen_share"] == 1.0 and june["narrow_voice"] and not june["show_quotes"]
    assert june["stage"] in ("weak signal", "emerging") and june["ring"] == "Watch"


def test_the_scorer_is_pluggable():
    import pytest

    from radar.scoring.metrics import WeightedScorer

    s = series({0: [10] * 6, 1: [0, 0, 0, 2, 8, 20]})

    class GrowthOnly:
        def score(self, components):
            return 100 * components["growth"]

    rows = by_key(compute_signals(s, ScoringConfig(), scorer=GrowthOnly()))
    default = by_key(compute_signals(s, ScoringConfig()))
    assert rows[(0, 6)]["score"] == 0.0 and default[(0, 6)]["score"] > 0
    # The growth part scores the growth the data are sure of (issue 15), not the point estimate.
    g = rows[(1, 6)]["credible_growth"]
    assert 0 < g <= rows[(1, 6)]["growth"]
    assert rows[(1, 6)]["score"] == pytest.approx(100 * min(1.0, math.log2(1 + g) / 3))
    with pytest.raises(ValueError, match="unknown score components"):
        WeightedScorer({"hype": 1.0})
