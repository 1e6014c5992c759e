"""The decision loop's pure rules (radar.core.loop): no database, no model."""

from __future__ import annotations

import numpy as np
import pytest

from radar.core import loop
from radar.core.loop import Indicators


def test_a_decision_starts_with_need_and_moves_one_step_at_a_time():
    assert loop.allowed_next(None) == ("need",)
    assert loop.allowed_next("need") == ("need", "ideas")
    assert loop.allowed_next("feedback") == ("need", "ideas", "feasibility", "feedback", "choice")
    # Implementation leads to reassessment; after it the loop may restart anywhere.
    assert "reassessment" in loop.allowed_next("implementation")
    assert loop.allowed_next("reassessment") == loop.STEPS
    # A fired trigger opens reassessment from any step.
    assert "reassessment" not in loop.allowed_next("ideas")
    assert "reassessment" in loop.allowed_next("ideas", trigger_pending=True)


@pytest.mark.parametrize("current, step, who, why, values, message", [
    (None, "ideas", "Eve", "x", {}, "cannot move to 'ideas' as the first step"),
    ("need", "choice", "Eve", "x", {}, "cannot move to 'choice' from 'need'"),
    ("need", "ideas", " ", "x", {}, "needs the name"),
    ("need", "ideas", "Eve", "", {}, "needs a reason"),
    ("need", "planning", "Eve", "x", {}, "unknown step"),
    ("need", "ideas", "Eve", "x", {"beauty": "yes"}, "unknown public-value"),
    ("feedback", "choice", "Eve", "x", {"equity": "  "}, "must record the public-value"),
])
def test_invalid_steps_are_refused_with_the_reason(current, step, who, why, values, message):
    with pytest.raises(loop.StepError, match=message):
        loop.validate_step(current, step, who, why, values)


def test_a_choice_with_a_consideration_is_accepted():
    loop.validate_step("feedback", "choice", "Eve", "cheapest fair option", {"equity": "all districts"})
    loop.validate_step("choice", "feasibility", "Eve", "costs changed", {})  # going back is fine


def test_keywords_match_whole_words_and_phrases():
    assert loop.keyword_in("bus", "The Bus timetable changes")
    assert loop.keyword_in("bus lane", "two new bus lanes opened")
    assert not loop.keyword_in("bus", "a busy street")
    assert not loop.keyword_in("heat pump", "pump the heat")
    assert loop.keyword_hits(["tram", "bus", "tram"], ["bring back the tram", "buses"]) == ["tram", "bus"]
    assert loop.keyword_hits([" "], ["anything"]) == []


def test_keywords_read_once_find_what_each_keyword_finds_on_its_own():
    """`prepared` keywords in a text made into `words` once (the matching of every service
    with every topic's passages) find exactly what `keyword_in` finds keyword by keyword."""
    rng = np.random.default_rng(5)
    vocab = ["bus", "buses", "Bus", "lane", "lanes", "bus-lane", "tram", "trams", "heat", "pump",
             "it's", "pumps!", "", " ", "|"]
    for _ in range(500):
        kws = [" ".join(rng.choice(vocab, rng.integers(1, 3))) for _ in range(rng.integers(0, 5))]
        texts = [" ".join(rng.choice(vocab, rng.integers(0, 9))) for _ in range(rng.integers(0, 4))]
        joined = " | ".join(t for t in texts if t)
        expected: list[str] = []
        for k in kws:
            if k.strip() and k not in expected and loop.keyword_in(k, joined):
                expected.append(k)
        assert loop.keyword_hits(kws, texts) == expected
        assert loop.hits_in(loop.prepared(kws), loop.words(joined)) == expected


def test_match_score_weighs_similarity_and_keywords():
    assert loop.match_score(None, 0, 0) == 0
    assert loop.match_score(0.1, 0, 0) == 0            # below the floor: unrelated
    assert loop.match_score(0.6, 0, 0) == pytest.approx(0.6)
    assert loop.match_score(0.4, 0, 0) == pytest.approx(0.3)
    assert loop.match_score(0.4, 0, 2) == pytest.approx(0.5)   # keyword only in passages
    assert loop.match_score(0.4, 1, 2) == pytest.approx(0.7)   # keyword in the label or terms
    assert loop.match_score(0.9, 3, 0) == pytest.approx(1.0)


def test_cosine_matrix():
    a = np.array([[1, 0], [0, 2]], dtype=np.float32)
    b = np.array([[3, 0], [1, 1]], dtype=np.float32)
    sims = loop.cosine_matrix(a, b)
    assert sims[0, 0] == pytest.approx(1) and sims[1, 0] == pytest.approx(0)
    assert sims[0, 1] == pytest.approx(2 ** -0.5)
    assert loop.cosine_matrix(np.zeros((0, 2)), b).shape == (0, 2)


def test_exposure_counts_rings_rising_topics_and_gaps():
    T = loop.TopicOnRadar
    assert loop.exposure([]) == 0
    assert loop.exposure([T(1, 1.0, "Act", True, False)]) == 1.0
    assert loop.exposure([T(1, 0.5, "Prepare", True, False)]) == 0.3
    # A rising topic off the inner rings still counts as Watch; a gap adds 0.5.
    assert loop.exposure([T(1, 1.0, "Monitor", True, True)]) == pytest.approx(0.8)
    assert loop.exposure([T(1, 1.0, None, False, False)]) == 0
    a = loop.exposure([T(1, 1.0, "Act", True, False), T(2, 0.5, "Watch", False, False)])
    assert a == pytest.approx(1.15)


BASE = Indicators(run_id=3, period_start="2026-10-01", share=0.02, growth=0.1, authors=4, sources=3,
                  ring="Watch", channels={"citizen": 12}, watch_passages=0)


def now(**kw) -> Indicators:
    values = {"run_id": 4, "period_start": "2026-11-01", "share": 0.02, "growth": 0.1, "authors": 4,
              "sources": 3, "ring": "Watch", "channels": {"citizen": 3}, "watch_passages": 0}
    values.update(kw)
    return Indicators(**values)


def test_signposts_fire_only_on_newer_runs_past_the_threshold():
    assert loop.evaluate_signpost("share", 0.05, BASE, now(share=0.04)) is None
    fired = loop.evaluate_signpost("share", 0.05, BASE, now(share=0.06, ring="Prepare"))
    assert fired is not None and fired.value == pytest.approx(0.06)
    assert "share 2.0% → 6.0%" in fired.moved and "ring Watch → Prepare" in fired.moved
    # The same radar run as the baseline: nothing new happened since the decision.
    assert loop.evaluate_signpost("share", 0.01, BASE, now(run_id=3, share=0.06)) is None
    assert loop.evaluate_signpost("growth", 1.0, BASE, now(growth=1.5)).value == 1.5
    assert loop.evaluate_signpost("growth", 1.0, BASE, now(growth=None)) is None


def test_count_signposts_need_growth_beyond_the_baseline():
    # Set when 4 authors carried it: a threshold of 3 waits for more than 4.
    assert loop.evaluate_signpost("authors", 3, BASE, now(authors=4)) is None
    assert loop.evaluate_signpost("authors", 3, BASE, now(authors=9)).value == 9
    assert loop.evaluate_signpost("watch_term", 1, BASE, now(watch_passages=0)) is None
    fired = loop.evaluate_signpost("watch_term", 1, BASE, now(watch_passages=2))
    assert fired.value == 2 and "watch passages 0 → 2" in fired.moved


def test_new_channel_fires_when_the_topic_reaches_a_channel_it_was_not_in():
    assert loop.evaluate_signpost("new_channel", 1, BASE, now(channels={"citizen": 30})) is None
    fired = loop.evaluate_signpost("new_channel", 2, BASE, now(channels={"citizen": 5, "policy": 3}))
    assert fired.value == 3 and "new channel: policy" in fired.moved
    assert loop.evaluate_signpost("new_channel", 4, BASE, now(channels={"policy": 3})) is None


def test_baseline_round_trip():
    assert Indicators.from_baseline(BASE.as_baseline()) == BASE
    with pytest.raises(ValueError):
        loop.signpost_value("mood", BASE, BASE)


@pytest.mark.parametrize("counts, moved", [
    ([], None),
    ([0, 0, 0, 3], (3, 0.0)),            # a first appearance with enough passages
    ([0, 0, 0, 2], None),                # too small
    ([2, 2, 2, 5], None),                # (5+1)/(2+1)-1 = 1.0 -> moved? equals min growth
    ([3, 3, 3, 5], None),                # growth 0.5
    ([1, 1, 1, 4], (4, 1.0)),
])
def test_watch_moved(counts, moved):
    got = loop.watch_moved(counts, min_passages=3, min_growth=1.01, baseline_periods=3)
    if moved is None:
        assert got is None
    else:
        assert (got.passages, got.baseline) == moved


def test_notices_keep_crawled_text_out_of_headers_and_markup():
    import email
    import email.policy
    from datetime import datetime

    from radar.decisions import notices

    n = notices.compose(sender="Radar <radar@city.example>", recipient="olu@city.example",
                        kind="decision", subject="Reassess “x”\r\nBcc: everyone@evil.example",
                        heading="<b>Time</b>", lines=["share 1% → 5%", "<script>alert(1)</script>"],
                        link="javascript:alert(1)", topic_ids=[3], now=datetime(2026, 12, 1),
                        idstring="decision1.signpost2")
    assert n.raw.isascii()
    msg = email.message_from_string(n.raw, policy=email.policy.default)
    assert msg["Bcc"] is None and "Bcc: everyone" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-generated" and "decision1.signpost2" in msg["Message-ID"]
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html and "javascript:" not in html
    assert "share 1% → 5%" in msg.get_body(preferencelist=("plain",)).get_content()
