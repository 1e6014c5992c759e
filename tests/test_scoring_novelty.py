"""The calibrated rise test: quiet when nothing happens, new themes found inside old topics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from radar.scoring.novelty import (
    TermPassages,
    benjamini_hochberg,
    calibrated_rise,
    dispersion,
    rate_test,
    topic_novelty,
    window_sum,
)
from radar.scoring.reasons import headline


def test_rate_test_is_the_exact_conditional_binomial():
    # 3 passages from nothing, this period 100 of 700 passages in all: p = (1/7)^3.
    p, lb = rate_test(np.array([3.0]), 100.0, np.array([0.0]), 600.0)
    assert p[0] == pytest.approx((1 / 7) ** 3)
    assert lb[0] > 1  # surely more than before
    # On baseline: 10 of 100 now, 60 of 600 before.
    p, lb = rate_test(np.array([10.0]), 100.0, np.array([60.0]), 600.0)
    assert 0.3 < p[0] < 0.7 and lb[0] < 1
    # Dispersion: the same counts are less sure in a noisier corpus.
    p_noisy, _ = rate_test(np.array([30.0]), 100.0, np.array([60.0]), 600.0, phi=4.0)
    p_plain, _ = rate_test(np.array([30.0]), 100.0, np.array([60.0]), 600.0)
    assert p_noisy[0] > p_plain[0]


def test_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True] + [False] * 8
    assert not benjamini_hochberg(np.full(5, 0.5), 0.05).any()


def test_dispersion_is_robust_and_at_least_one():
    rng = np.random.default_rng(0)
    assert dispersion(rng.standard_normal(2000)) == pytest.approx(1.0, abs=0.15)
    z = rng.standard_normal(2000) * 3
    z[:100] = 50  # a few items that really moved do not count as noise
    assert dispersion(z) == pytest.approx(9.0, rel=0.2)
    assert dispersion(np.zeros(3)) == 1.0


def _poisson_topics(rng, K, T, rate, overdispersion=0.0):
    """K stationary topics; with overdispersion, each period's rate wobbles (gamma noise)."""
    lam = np.full((K, T), rate, dtype=float)
    if overdispersion:
        lam = lam * rng.gamma(1 / overdispersion, overdispersion, size=(K, T))
    return rng.poisson(lam).astype(float)


@pytest.mark.parametrize("overdispersion", [0.0, 0.3])
def test_quiet_corpus_gives_few_flags_even_when_noisy(overdispersion):
    """Stationary topics, Poisson or far noisier (a period's rate wobbles by +-55%): a handful
    of flags at most in 5 corpora x 50 topics x 21 periods."""
    flags = 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        V = _poisson_topics(rng, 50, 24, 20.0, overdispersion)
        rise = calibrated_rise(V, V.sum(axis=0), np.zeros_like(V), 6, 0.05, 2.0)
        flags += rise.significant[:, 3:].sum()
        if overdispersion:
            assert np.median(rise.phi_volume[8:]) > 2  # the noise was learned, not assumed
    assert flags <= (0 if not overdispersion else 8)


def test_a_jump_and_a_new_topic_are_flagged_in_their_period():
    rng = np.random.default_rng(3)
    V = _poisson_topics(rng, 40, 12, 20.0, 0.05)  # noisier than Poisson (phi about 2)
    V[5, 8:] = [80, 90, 85, 90]          # an old topic quadruples
    V = np.vstack([V, np.zeros(12)])
    V[-1, 9:] = [12, 20, 30]             # a new topic appears
    rise = calibrated_rise(V, V.sum(axis=0), np.zeros_like(V), 6, 0.05, 2.0)
    assert rise.significant[5, 8] and rise.reason[5, 8] == "volume"
    assert rise.significant[-1, 9]       # no later period needed to confirm it
    others = np.delete(rise.significant, [5, len(V) - 1], axis=0)
    assert others.sum() <= 1  # the stationary topics stay quiet


def _term_passages(specs):
    """specs: list of (period, topic, source, terms) per passage."""
    vocab = sorted({t for *_, terms in specs for t in terms})
    col = {t: i for i, t in enumerate(vocab)}
    rows, cols = [], []
    for r, (*_, terms) in enumerate(specs):
        for t in terms:
            rows.append(r)
            cols.append(col[t])
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(specs), len(vocab)))
    return TermPassages(m, vocab, np.array([s[0] for s in specs]), np.array([s[1] for s in specs]),
                        np.array([s[2] for s in specs]))


def test_a_new_theme_inside_an_old_topic_is_found_and_a_churning_topic_is_not():
    """Topic 0 (disaster relief) gets "tsunami" in period 5; topic 1 (congratulations) names a
    new office holder every period. Only topic 0's novelty is a rise."""
    rng = np.random.default_rng(1)
    specs = []

    def words():  # the steady vocabulary every passage draws on
        return [f"w{j}" for j in rng.choice(40, 4, replace=False)]

    for t in range(7):
        for i in range(40):   # disaster relief, steady
            extra = ["tsunami", "wave"] if t == 5 and i < 25 else []
            specs.append((t, 0, i % 30, ["disaster", "relief", *words(), *extra]))
        for i in range(40):   # congratulations to this period's president
            specs.append((t, 1, i % 30, ["congratulate", "election", f"president{t}", *words()]))
        for i in range(60):   # other business
            specs.append((t, 2 + i % 3, i % 30, ["trade", *words()]))
    tp = _term_passages(specs)
    nov = topic_novelty(tp, 5, 7, 3, 0.05, 3, 2, 2.0)
    assert "tsunami" in nov.terms[(0, 5)] and nov.novel[0, 5] == 25
    assert nov.novel[1, 1:].min() == 40  # every period's new name is a surge in its own topic
    V = np.zeros((5, 7))
    for t, k, *_ in specs:
        V[k, t] += 1
    rise = calibrated_rise(V, V.sum(axis=0), nov.novel, 3, 0.05, 2.0)
    assert rise.significant[0, 5] and rise.reason[0, 5] == "novel terms"
    assert not rise.significant[1, 3:].any()  # its churn is its own baseline
    text = headline("novel terms", 25, 30, 30.0, 65, 25, nov.terms[(0, 5)], nov.term_sources, 5, 0.6)
    assert text.startswith("New within the topic: mentioned by 25 of 30 sources")
    assert "new terms: " in text and "tsunami (" in text and text.endswith(".")


def test_novel_passages_in_one_lump_are_no_rise_and_a_theme_is():
    """A topic's novel passages come in lumps of at least min_volume (a term surges only with
    that many passages in the period). One lump of 3 against none in 26 periods is no rise
    once the dispersion is at least the lump size; 9 novel passages (three lumps) are."""
    rng = np.random.default_rng(4)
    V = rng.poisson(8.0, size=(20, 30)).astype(float)   # 20 steady topics, ~160 passages a period
    V[:, -1] = 8
    V[7, -1] = 10                                       # no rise in volume (8 a period)
    novel = np.zeros_like(V)
    novel[3, -1] = 3                                    # one word surged by chance in topic 3
    novel[7, -1] = 9                                    # a new theme in topic 7
    phi = np.ones(30)
    old = calibrated_rise(V, V.sum(axis=0), novel, 26, 0.05, 2.0, phi, novel_lump=1)
    assert old.significant[3, -1]                       # what the radar said before
    rise = calibrated_rise(V, V.sum(axis=0), novel, 26, 0.05, 2.0, phi, novel_lump=3)
    assert not rise.significant[3, -1] and rise.phi_novel[-1] == 3
    assert rise.significant[7, -1] and rise.reason[7, -1] == "novel terms"
    assert rise.significant[:, -1].sum() == 1


def test_a_word_climbing_a_few_passages_a_period_adds_up_its_evidence():
    """"makerspace" climbs 3, 4, 5 passages a period out of 200 (a citizen theme on its way
    up). Against the three periods before, the last period alone is no surprise (5 now, 7
    before); the three periods of the climb together are (12 now, none before). Steady words
    stay quiet at every scale."""
    from radar.scoring.novelty import surging_terms
    from radar.scoring.themes import confirmed_terms

    rng = np.random.default_rng(3)
    climb = {6: 3, 7: 4, 8: 5}
    specs = []
    for t in range(9):
        for i in range(200):
            words = [f"w{j}" for j in rng.choice(50, 4, replace=False)]
            extra = ["makerspace"] if i < climb.get(t, 0) else []
            specs.append((t, i % 4, i % 30, [*words, *extra]))
    tp = _term_passages(specs)
    tested: list = []
    surging_terms(tp, 9, 3, 0.05, 3, 2, 2.0, tested)
    confirmed = [[tp.vocab[c] for c in cols] for cols, _ in confirmed_terms(tested, 0.05, 2.0)]
    assert confirmed[8] == ["makerspace"]
    assert not any(confirmed[:8])
    p_last_alone, _ = rate_test(np.array([5.0]), 200.0, np.array([7.0]), 600.0)
    assert p_last_alone[0] > 0.1


def test_distinct_sources_per_term_and_period_match_a_plain_count():
    """A source carrying a term in many passages of a period counts once there."""
    from radar.scoring.termdata import source_counts as _source_counts

    rng = np.random.default_rng(7)
    specs = [(int(rng.integers(4)), 0, int(rng.integers(5)),
              [f"w{j}" for j in rng.choice(12, 3, replace=False)]) for _ in range(300)]
    specs.append((3, 0, 4, ["lonely"]))
    tp = _term_passages(specs)
    expected = np.zeros((4, len(tp.vocab)))
    for t in range(4):
        for c, term in enumerate(tp.vocab):
            expected[t, c] = len({s for p, _, s, terms in specs if p == t and term in terms})
    got = _source_counts(tp.matrix.tocsr(), tp, 4)
    assert np.array_equal(got, expected)
    assert got[3, tp.vocab.index("lonely")] == 1 and got[:3, tp.vocab.index("lonely")].sum() == 0


def test_one_period_s_window_sum_is_that_row_of_the_baseline():
    """surging_terms sums each period's baseline on its own (no (T, V) array): the same
    numbers as `baseline`, the first period's window empty."""
    from radar.scoring.novelty import baseline

    rng = np.random.default_rng(5)
    counts = rng.poisson(3.0, size=(9, 40)).astype(float)
    want = baseline(counts.T, 4).T
    for t in range(9):
        assert np.array_equal(window_sum(counts, t, 4), want[t])
        assert window_sum(counts[:, 7], t, 4) == want[t, 7]
    assert not window_sum(counts, 0, 4).any()


def test_past_dispersion_is_the_median_variance_over_the_chi_square_median():
    from scipy.stats import chi2

    from radar.scoring.novelty import past_dispersion

    rng = np.random.default_rng(3)
    z = rng.normal(0, 2.0, size=(40, 8))
    ok = np.ones_like(z, dtype=bool)
    ok[::5, 2] = False
    d = ok[:, 1:7].sum(axis=1)
    zz = np.where(ok[:, 1:7], z[:, 1:7], 0.0)
    centre = zz.sum(axis=1) / d
    var = (np.where(ok[:, 1:7], z[:, 1:7] - centre[:, None], 0.0) ** 2).sum(axis=1) / (d - 1)
    dof = int(np.median(d)) - 1
    assert past_dispersion(z, ok, 7, 6) == max(1.0, np.median(var) / (chi2.median(dof) / dof))
    assert 2.5 < past_dispersion(z, ok, 7, 6) < 6  # about the variance of the residuals, 4
    assert past_dispersion(z, ok, 1, 6) is None  # fewer than two past periods


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bounds_a_test_asks_for_are_those_of_computing_every_bound(seed):
    """`_sustained` computes only the lower bounds its caller uses ("h1": the topic test's
    bound at one period; "significant": the term tests' bound of the winning scale where
    p <= q); those equal the bounds computed for every row, and p and the point ratios
    do not change."""
    from radar.scoring.novelty import _sustained, rate_bound, rate_p, rate_test

    rng = np.random.default_rng(seed)
    T, rows, q = 14, 4000, 0.05
    N = rng.integers(200, 2000, T).astype(float)
    X = rng.poisson(rng.gamma(0.6, 2.0, (rows, 1)) * N / 400).astype(float)
    X[:40, -3:] += rng.integers(5, 30, (40, 3))  # some surge
    for t in (3, 8, 13):
        p, lb1, lb, ratio = _sustained(X, N, t, 6, 1.7, q, "all")
        ph, lb1_h, lb_h, ratio_h = _sustained(X, N, t, 6, 1.7, q, "h1")
        ps, lb1_s, lb_s, ratio_s = _sustained(X, N, t, 6, 1.7, q, "significant")
        for other in (ph, ps):
            assert np.array_equal(other, p)
        assert np.array_equal(ratio_h, ratio) and np.array_equal(ratio_s, ratio)
        assert np.array_equal(lb1_h, lb1) and not lb_h.any()
        sig = p <= q
        assert sig.sum() >= (20 if t == 13 else 1) and (~sig).sum() > 1000  # both kinds
        assert np.array_equal(lb_s[sig], lb[sig]) and not lb_s[~sig].any() and not lb1_s.any()
    x, n, b, m = X[:, -1], N[-1], X[:, -4:-1].sum(axis=1), N[-4:-1].sum()
    both = rate_test(x, n, b, m, 1.3)
    assert np.array_equal(both[0], rate_p(x, n, b, m, 1.3))
    assert np.array_equal(both[1], rate_bound(x, n, b, m, 1.3))
