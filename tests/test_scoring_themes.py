"""New themes inside a topic (the weak-signal tier): found early, calibrated over terms, never
one loud voice, never a topic's routine churn."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from radar.scoring.novelty import TermPassages, topic_novelty
from radar.scoring.rings import Evidence, RingRules, ring, stage
from radar.scoring.themes import confirmed_terms, new_themes


def _term_passages(specs, with_authors=False):
    """specs: (period, topic, source, terms[, author]) per passage."""
    vocab = sorted({t for s in specs for t in s[3]})
    col = {t: i for i, t in enumerate(vocab)}
    rows, cols = [], []
    for r, s in enumerate(specs):
        for t in s[3]:
            rows.append(r)
            cols.append(col[t])
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(specs), len(vocab)))
    authors = np.array([s[4] if len(s) > 4 else -1 for s in specs]) if with_authors else None
    return TermPassages(m, vocab, np.array([s[0] for s in specs]), np.array([s[1] for s in specs]),
                        np.array([s[2] for s in specs]), authors)


def _corpus(new_theme=None, churn=False, seed=2):
    """Five topics over 8 periods of a steady vocabulary; `new_theme` = (period, passages,
    sources, author or None) adds "kosovo" to that many passages of topic 0 (a big regional
    topic); `churn` gives topic 1 a new name every period."""
    rng = np.random.default_rng(seed)
    specs = []
    for t in range(8):
        for i in range(300):
            k = i % 5
            words = [f"w{j}" for j in rng.choice(60, 5, replace=False)] + [f"topic{k}"]
            if churn and k == 1:
                words.append(f"president{t}")
            author = -1
            if new_theme and t == new_theme[0] and k == 0 and i // 5 < new_theme[1]:
                words.append("kosovo")
                if new_theme[3] is not None:
                    author = new_theme[3]
            specs.append((t, k, (i // 5) % (new_theme[2] if new_theme and t == new_theme[0]
                                              and k == 0 and i // 5 < new_theme[1] else 40),
                          words, author))
    return _term_passages(specs, with_authors=True)


def _themes(tp, K=5, T=8):
    nov = topic_novelty(tp, K, T, 6, 0.05, 3, 2, 2.0)
    return nov, new_themes(tp, nov.tested, K, T, 6, 0.05, 3, 2, 2.0)


def test_a_handful_of_passages_of_a_new_theme_inside_a_big_topic_is_a_new_theme():
    nov, th = _themes(_corpus(new_theme=(5, 7, 5, None)))
    assert th.present[0, 5] and th.terms[(0, 5)] == ["kosovo"]
    assert th.passages[0, 5] == 7 and th.sources[0, 5] == 5 and th.ratio[0, 5] >= 2
    assert th.present.sum() == 1  # nothing else, in any period


def test_a_quiet_corpus_has_no_new_themes():
    for seed in range(3):
        _, th = _themes(_corpus(seed=seed))
        assert not th.present.any()


def test_one_source_or_one_citizen_author_is_not_a_theme():
    _, th = _themes(_corpus(new_theme=(5, 7, 1, None)))
    assert not th.present[0, 5]
    _, th = _themes(_corpus(new_theme=(5, 7, 5, 42)))  # one citizen writes all seven
    assert not th.present[0, 5]


def test_a_topic_that_churns_every_period_holds_no_new_theme():
    _, th = _themes(_corpus(churn=True))
    assert th.present[1, 1:3].all()  # a new name at first looks like news...
    assert not th.present[1, 3:].any()  # ...then it is the topic's routine


def test_confirmed_terms_control_false_discoveries_over_terms():
    cols = np.arange(1000)
    p = np.random.default_rng(0).uniform(size=1000)  # a thousand terms by chance: ~50 at p < 0.05
    p[7] = 1e-6
    assert (p < 0.05).sum() > 30
    lb = np.full(1000, 3.0)
    (kept, bounds), = confirmed_terms([(cols, p, lb, np.full(1000, 4.0))], 0.05, 2.0)
    assert kept.tolist() == [7] and bounds.tolist() == [3.0]


def test_a_new_theme_is_a_weak_signal_in_watch_until_its_topic_rises():
    rules = RingRules()
    e = Evidence(period_index=5, volume=60, expected=58.0, growth=0.03, z=0.3, burst=0.0,
                 novelty=0.0, quadrant="well-known", score=55.0, sources=40,
                 effective_sources=30.0, citizen_share=0.0, authors=0, top_author_share=0.0,
                 age=5, significant=False, new_theme=True)
    assert stage(e, rules) == "weak signal"
    assert ring(e, "weak signal", False, rules) == "Watch"
    e.significant = True  # the topic itself rose: the ordinary rules apply
    assert ring(e, stage(e, rules), False, rules) in ("Act", "Prepare")
    e.significant, e.new_theme = False, False
    assert stage(e, rules) == "established"


def _series(tp, topic_sources=30.0):
    """A topic series over the passages of `tp` (every topic carried by `topic_sources`
    equally active sources), with its terms."""
    from datetime import date

    from radar.scoring.inputs import TopicSeries

    K, T = 5, 8
    P = np.zeros((K, T))
    np.add.at(P, (tp.topic, tp.period), 1)
    total = P.sum(axis=0)
    return TopicSeries(
        topic_ids=list(range(K)), periods=[date(2024, m, 1) for m in range(1, T + 1)],
        passages=P, documents=P.copy(), expectation=np.zeros((K, T)),
        channel_passages={"news": P.copy(), "policy": np.zeros((K, T)), "citizen": np.zeros((K, T))},
        sources=np.full((K, T), topic_sources), effective_sources=np.full((K, T), topic_sources),
        authors=np.zeros((K, T)), top_author_share=np.zeros((K, T)),
        total_passages=total, total_documents=total.copy(),
        channel_totals={"news": total.copy(), "policy": np.zeros(T), "citizen": np.zeros(T)},
        terms=tp)


def test_a_new_theme_is_scored_on_its_own_voices_when_wider_than_its_topic():
    """The signal stands for the theme: seven passages on Kosovo from five speakers rank above
    the same seven from two, even when the topic holding them shows few voices of its own."""
    from radar.core.config import ScoringConfig
    from radar.scoring.signals import compute_signals

    sc = ScoringConfig(min_sources=2)
    _, th = _themes(_corpus(new_theme=(5, 7, 5, None)))
    assert th.effective_sources[0, 5] > 4.5  # 2, 2, 1, 1, 1 passages from five sources
    assert th.effective_sources[:, :5].sum() == 0
    score = {}
    for n_sources in (5, 2):
        series = _series(_corpus(new_theme=(5, 7, n_sources, None)), topic_sources=1.0)
        rows = {(r["topic_id"], r["period_start"].month): r for r in compute_signals(series, sc)}
        assert rows[(0, 6)]["theme"] == "kosovo"
        score[n_sources] = rows[(0, 6)]["score"]
    assert score[5] > score[2] + 5


def test_a_new_theme_signal_carries_the_theme_it_stands_for():
    """The weak signal of topic 0 in period 5 is named by its theme ("kosovo"), stored in
    `signals.theme`, so the radar does not show only the broad topic holding it."""

    from radar.core.config import ScoringConfig
    from radar.scoring.reasons import theme_words
    from radar.scoring.score import compute_signals

    series = _series(_corpus(new_theme=(5, 7, 5, None)))
    rows = {(r["topic_id"], r["period_start"].month): r for r in compute_signals(series, ScoringConfig())}
    kosovo = rows[(0, 6)]
    assert kosovo["stage"] == "weak signal" and kosovo["ring"] in ("Watch", "Prepare", "Act")
    assert kosovo["theme"] == "kosovo" and "kosovo" in kosovo["reasons"]
    assert all(r["theme"] is None for key, r in rows.items() if key != (0, 6))
    assert theme_words(["indian ocean", "tsunami", "ocean", "earthquake", "wave"]) \
        == "indian ocean, tsunami, earthquake"
    assert theme_words(["responsibility protect"]) == "responsibility protect"
    assert theme_words([]) is None


def test_the_passages_read_are_those_of_surging_and_of_confirmed_terms():
    """A term counted in hundreds that a bit more than doubles is confirmed (new themes) but
    not surging (its rate ratio's lower bound is under 2): its passages are read too."""
    from radar.scoring.novelty import surging_terms
    from radar.scoring.termdata import TermCounts
    from radar.scoring.themes import needed_terms

    T, V = 4, 31
    counts = np.full((T, V), 50.0)
    counts[:, 30] = [100, 100, 100, 220]         # the riser: point ratio 2.2
    counts[:, :30] += np.arange(30)              # steady terms of every size
    tc = TermCounts(counts, np.full((T, V), 8.0), np.full(T, 10_000.0), np.full(T, 40.0))
    args = (T, 3, 0.05, 3, 2, 2.0)
    surging, _, _ = surging_terms(tc, *args)
    needed = needed_terms(tc, *args)
    assert 30 not in surging[3].tolist() and 30 in needed[3].tolist()
    assert all(n.size == 0 for n in needed[:3])
    counts[3, 30] = 400                         # surely more than doubled: surging as well
    assert 30 in surging_terms(tc, *args)[0][3].tolist() and 30 in needed_terms(tc, *args)[3]
