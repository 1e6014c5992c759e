"""Stage, ring, whose-voice and movement rules."""

from __future__ import annotations

from radar.scoring.rings import (
    Evidence,
    RingRules,
    is_rising,
    movement,
    narrow_voice,
    period_movement,
    reasons,
    ring,
    show_quotes,
    stage,
)

RULES = RingRules()


def evidence(**kw) -> Evidence:
    base = dict(period_index=5, volume=30, expected=10.0, growth=1.8, z=5.0, burst=4.0,
                novelty=0.0, quadrant="strong signal", score=70.0, sources=6,
                effective_sources=5.0, citizen_share=0.2, authors=12, top_author_share=0.1, age=5)
    base.update(kw)
    return Evidence(**base)


def test_broad_rising_visible_topic_is_emerging_and_act():
    e = evidence()
    st = stage(e, RULES)
    assert st == "emerging"
    assert ring(e, st, narrow_voice(e, RULES), RULES) == "Act"
    assert ring(evidence(score=45.0), st, False, RULES) == "Prepare"


def test_new_little_seen_riser_is_a_weak_signal():
    e = evidence(volume=6, expected=0.5, quadrant="weak signal", novelty=1.0, age=0, score=50.0)
    assert stage(e, RULES) == "weak signal"
    assert ring(e, "weak signal", False, RULES) == "Prepare"
    assert ring(evidence(score=30.0), "weak signal", False, RULES) == "Watch"


def test_rising_needs_enough_passages_history_and_significance():
    assert not is_rising(evidence(volume=2), RULES)
    assert not is_rising(evidence(period_index=1), RULES)  # warm-up
    assert not is_rising(evidence(burst=0.0, growth=1.5, z=1.0), RULES)
    assert is_rising(evidence(burst=0.0, growth=1.5, z=2.5), RULES)
    assert not is_rising(evidence(burst=0.0, growth=0.5, z=4.0), RULES)
    # A weak burst on a few passages (z under min_burst_z) is not enough on its own.
    assert not is_rising(evidence(burst=1.5, growth=0.8, z=1.9), RULES)
    assert is_rising(evidence(burst=1.5, growth=0.8, z=2.1), RULES)


def test_one_source_or_a_loud_handful_is_narrow_and_capped_at_watch():
    one_forum = evidence(sources=1, effective_sources=1.0)
    assert narrow_voice(one_forum, RULES)
    assert ring(one_forum, "emerging", True, RULES) == "Watch"
    dominated = evidence(sources=5, effective_sources=1.2)
    assert narrow_voice(dominated, RULES)
    few_authors = evidence(citizen_share=0.9, authors=3)
    assert narrow_voice(few_authors, RULES)
    loud_author = evidence(citizen_share=0.9, authors=20, top_author_share=0.6)
    assert narrow_voice(loud_author, RULES)
    # Few authors matter only where citizens carry the topic.
    assert not narrow_voice(evidence(citizen_share=0.1, authors=1), RULES)
    assert "narrow voice" in reasons(one_forum, "emerging", "Watch", True, RULES)


def test_quotes_only_with_k_distinct_authors():
    assert not show_quotes(4, RULES)
    assert show_quotes(5, RULES)
    assert not show_quotes(4, RingRules(min_authors=5))
    assert show_quotes(3, RingRules(min_authors=3))


def test_fading_established_and_off_the_radar():
    fading = evidence(volume=4, expected=20.0, growth=-0.75, z=-3.0, burst=0.0)
    assert stage(fading, RULES) == "fading"
    assert ring(fading, "fading", False, RULES) == "Monitor"
    steady = evidence(volume=20, expected=20.0, growth=0.0, z=0.0, burst=0.0, quadrant="well-known")
    assert stage(steady, RULES) == "established"
    gone = evidence(volume=0, expected=0.0, growth=0.0, z=0.0, burst=0.0)
    assert ring(gone, stage(gone, RULES), False, RULES) is None
    tiny_new = evidence(volume=1, expected=0.0, growth=1.0, z=1.0, burst=0.0, age=0)
    assert stage(tiny_new, RULES) is None
    assert ring(tiny_new, None, False, RULES) == "Monitor"


def test_movement_against_the_previous_radar():
    assert movement(None, "Watch") == "new"
    assert movement("Watch", "Act") == "moved in"
    assert movement("Prepare", "Monitor") == "moved out"
    assert movement("Act", "Act") == "unchanged"
    assert movement("Monitor", None) == "left"
    assert movement(None, None) is None


def test_rules_take_thresholds_from_config():
    from radar.core.config import ScoringConfig

    rules = RingRules.from_config(ScoringConfig(min_authors=7, act_score=80.0))
    assert rules.min_authors == 7 and rules.act_score == 80.0


def test_reasons_name_rising_expectations_and_gap_risk():
    e = evidence(expectation_share=0.4, expectation_growth=2.0, gap_risk=True)
    text = reasons(e, "emerging", "Act", False, RULES)
    assert "expectations rising: 40% of passages voice a demand" in text
    assert "gap risk" in text
    quiet = reasons(evidence(), "emerging", "Act", False, RULES)
    assert "expectations" not in quiet and "gap risk" not in quiet


def test_period_movement_calls_a_topic_new_once():
    assert period_movement(None, "Watch", seen_before=False) == "new"
    assert period_movement(None, "Watch", seen_before=True) == "back"
    assert period_movement("Watch", "Act", seen_before=True) == "moved in"
    assert period_movement("Monitor", None, seen_before=True) == "left"
    assert period_movement(None, None, seen_before=True) is None
