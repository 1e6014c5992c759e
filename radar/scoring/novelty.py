"""Calibrated emergence tests: is this rise more than the corpus's own period-to-period noise?

Pure functions over arrays (no database). Three questions, one test:

- does a **topic** hold more of this period's passages than in its baseline?
- does a **term** (lemma or lemma bigram) appear in more of this period's
  passages than in its baseline? (new words: "tsunami", "darfur"; a feature of
  passages, not a flag)
- does a topic hold more **novel passages** (passages carrying one of this
  period's surging terms: a sub-cluster) as a share of all passages than it
  used to? This finds a new theme inside an old topic (a disaster inside
  "disaster relief") while a topic that churns every period (a new office
  holder's name every year) stays quiet: its own past churn is its baseline.

The test compares a count x in the period (of n) with a count b in the W
periods before (of m). Conditional on x + b, under "same rate" x is
Binomial(x + b, pi) with pi = n / (n + m) (the exact test for two Poisson
rates; no pseudo-counts, any scale). Real counts vary more from period to
period than Poisson: the **dispersion** phi is learned from the period itself,
from the corpus itself: for topics, the median over topics of each topic's own
mean squared residual over the baseline window (its period-to-period noise;
most topics do not move, so the median is theirs); for terms, and for topics
without enough history, the robust variance (median absolute deviation) of the
period's residuals over every item tested (an empirical null, Efron 2004).
Never below 1. Counts are divided by
phi before the binomial tail (quasi-likelihood), so an over-dispersed corpus
needs proportionally more evidence. Across all items of a period the p-values
are controlled for false discoveries (Benjamini-Hochberg at level q): in a
period where nothing happens, the chance of any flag at all is at most q, and
in a busy one at most a share q of the flags are expected to be noise.

The effect size is the lower confidence bound (level q) of the rate ratio, so
3 passages from nothing and 300 from 100 are judged on how sure we are, not on
the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.special import betainc, betaincinv, gammaincinv

from radar.scoring.termdata import TermCounts, TermPassages, term_counts

MAD_SCALE = 1.482602218505602      # 1 / Phi^-1(3/4): MAD x this = standard deviation of a normal
MIN_DISPERSION_ITEMS = 5            # fewer residuals than this: no estimate, phi = 1
SCALES = (1, 2, 3)                  # periods a rise is summed over (a jump, a steady climb)
MIN_DISPERSION_TRIALS = 10          # residuals of items with x + b below this are too discrete


def baseline(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the `window` periods strictly before each period (last axis = time)."""
    x = np.asarray(x, dtype=float)
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    idx = np.arange(x.shape[-1])
    lo = np.maximum(idx - window, 0)
    return csum[..., idx] - csum[..., lo]


def window_sum(x: np.ndarray, t: int, window: int):
    """Sum of rows t-window .. t-1 of x (first axis = time): `baseline`'s row t, without
    the whole (T, V) array (a large vocabulary's counts are held once)."""
    return np.asarray(x[max(t - window, 0):t], dtype=float).sum(axis=0)


def residual_z(x, n, b, m) -> np.ndarray:
    """Standardised residual of x under the conditional binomial null (0 where undefined)."""
    x, n, b, m = (np.asarray(a, dtype=float) for a in (x, n, b, m))
    s = x + b
    pi = np.divide(n, n + m, out=np.zeros(np.broadcast(n, m).shape), where=(n + m) > 0)
    var = s * pi * (1 - pi)
    return np.divide(x - s * pi, np.sqrt(var), out=np.zeros(np.broadcast(x, var).shape),
                     where=var > 0)


def dispersion(z: np.ndarray, trials: np.ndarray | None = None) -> float:
    """phi = (1.4826 x MAD(z))^2, the variance of the residuals' bulk, at least 1; 1 when too
    few residuals to tell. The median absolute deviation around the median ignores the
    items that do move (up to half of them) and the shift a big riser causes in everyone
    else's share."""
    z = np.asarray(z, dtype=float).ravel()
    ok = np.isfinite(z)
    if trials is not None:
        ok &= np.asarray(trials, dtype=float).ravel() >= MIN_DISPERSION_TRIALS
    if ok.sum() < MIN_DISPERSION_ITEMS:
        return 1.0
    zz = z[ok]
    mad = np.median(np.abs(zz - np.median(zz)))
    return float(max(1.0, (MAD_SCALE * mad) ** 2))


def past_dispersion(z: np.ndarray, ok: np.ndarray, t: int, window: int) -> float | None:
    """phi at period t from each item's own past: the median over items of the variance of
    its residuals over the `window` periods before t (each item's own period-to-period
    noise around its own course, so a share pushed down by a big riser elsewhere is not
    counted as noise; the median across items ignores the few that moved), corrected for
    the median of a chi-square variance, at least 1. None when fewer than MIN_DISPERSION_ITEMS items have two
    past residuals."""
    lo = max(0, t - window)
    if t - lo < 2:
        return None
    zz, oo = z[:, lo:t], ok[:, lo:t]
    d = oo.sum(axis=1)
    keep = d >= 2
    if keep.sum() < MIN_DISPERSION_ITEMS:
        return None
    zk, ok_k, dk = zz[keep], oo[keep], d[keep]
    centre = np.where(ok_k, zk, 0.0).sum(axis=1) / dk
    var = (np.where(ok_k, zk - centre[:, None], 0.0) ** 2).sum(axis=1) / (dk - 1)
    dof = int(np.median(dk)) - 1
    # The chi-square median, 2 x gammaincinv(dof / 2, 1/2): scipy.stats' chi2.median to the
    # last bit, without importing scipy.stats (0.6 s of every `radar analyze`).
    return float(max(1.0, np.median(var) / (2 * gammaincinv(dof / 2, 0.5) / dof)))


def rate_test(x, n, b, m, phi: float | np.ndarray = 1.0, level: float = 0.05):
    """(one-sided p-value, rate-ratio lower bound) of x of n against b of m before.

    p = P(X >= x), X ~ Binomial(x + b, pi) with counts divided by phi (a
    continuous binomial tail through the regularised incomplete beta). The
    lower bound is the Clopper-Pearson bound of x / (x + b) at `level` turned
    into a ratio of rates: (pL / (1 - pL)) x (m / n); infinite when m = 0 (no
    baseline at all), 0 when x = 0.
    """
    return rate_p(x, n, b, m, phi), rate_bound(x, n, b, m, phi, level)


def _scaled(x, n, b, m, phi):
    """The counts divided by phi and the share of trials now, broadcast together."""
    x, n, b, m = (np.asarray(a, dtype=float) for a in (x, n, b, m))
    phi = np.maximum(np.asarray(phi, dtype=float), 1.0)
    xs, ss = x / phi, (x + b) / phi
    pi = np.divide(n, n + m, out=np.ones(np.broadcast(n, m).shape), where=(n + m) > 0)
    shape = np.broadcast(xs, ss, pi).shape
    return (*(np.broadcast_to(a, shape) for a in (xs, ss, pi)), n, m, shape)


def rate_p(x, n, b, m, phi: float | np.ndarray = 1.0) -> np.ndarray:
    """The p-value of `rate_test` alone."""
    xs, ss, pi, _, _, shape = _scaled(x, n, b, m, phi)
    p = np.ones(shape)
    test = (xs > 0) & (pi < 1)
    p[test] = betainc(xs[test], ss[test] - xs[test] + 1, pi[test])
    return p


def rate_bound(x, n, b, m, phi: float | np.ndarray = 1.0, level: float = 0.05) -> np.ndarray:
    """The rate-ratio lower bound of `rate_test` alone (its inverse incomplete beta is five
    times the p-value's work: callers that need few bounds ask for those only)."""
    xs, ss, _, n, m, shape = _scaled(x, n, b, m, phi)
    pos = xs > 0
    pl = np.zeros(shape)
    pl[pos] = betaincinv(xs[pos], ss[pos] - xs[pos] + 1, level)
    m_b, n_b = np.broadcast_to(m, shape), np.broadcast_to(n, shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        lb = np.where(pos, pl / np.maximum(1 - pl, 1e-300) * np.divide(m_b, n_b, out=np.zeros(shape),
                                                                        where=n_b > 0), 0.0)
    return np.where(pos & (m_b == 0), np.inf, lb)


def point_ratio(x, n, b, m) -> np.ndarray:
    """(x / n) / (b / m), the rate ratio's point estimate; b is at least half a passage."""
    x, n, b, m = (np.asarray(a, dtype=float) for a in (x, n, b, m))
    now = np.divide(x, n, out=np.zeros(np.broadcast(x, n).shape), where=n > 0)
    before = np.divide(np.maximum(b, 0.5), m, out=np.zeros(np.broadcast(b, m).shape), where=m > 0)
    return np.divide(now, before, out=np.full(now.shape, np.inf), where=before > 0)


def benjamini_hochberg(p: np.ndarray, q: float) -> np.ndarray:
    """Mask of the discoveries among p-values at false-discovery rate q."""
    p = np.asarray(p, dtype=float)
    out = np.zeros(p.shape, dtype=bool)
    flat = p.ravel()
    ok = np.flatnonzero(np.isfinite(flat))
    if ok.size == 0:
        return out
    order = ok[np.argsort(flat[ok], kind="stable")]
    ranked = flat[order]
    below = ranked <= q * np.arange(1, ranked.size + 1) / ranked.size
    if below.any():
        last = np.flatnonzero(below).max()
        out.ravel()[order[: last + 1]] = True
    return out


@dataclass
class NoveltyResult:
    """Per topic and period: novel passages, the surging terms that made them, and the tests."""

    novel: np.ndarray                     # (K, T) passages carrying a surging term of the topic
    terms: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (k, t) -> terms
    term_sources: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    # (t, term) -> (sources mentioning it in t, sources mentioning it in the baseline window)
    sources_in_period: np.ndarray | None = None  # (T,) distinct sources per period
    phi: np.ndarray | None = None  # (T,) dispersion of the period's term counts
    tested: list = field(default_factory=list)  # per period: (terms, p, ratio bounds, point ratios)


def surging_terms(tp: TermPassages | TermCounts, T: int, window: int, q: float,
                  min_volume: int, min_sources: int, min_ratio: float,
                  tested: list | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """For each period, the term columns that surge, most surprising first, and the term
    counts per period.

    Tested: terms in at least `min_volume` passages and `min_sources` sources of
    the period. Each is tested over the last 1, 2 and 3 periods against the
    `window` periods before them (`_sustained`, as a topic's volume is: a word
    climbing a few passages a period adds up its evidence); the winning scale's
    rate-ratio bound and point ratio come with it. A term
    surges when its test gives p <= q and the lower confidence bound of its rate
    ratio is at least `min_ratio` (surely doubled, by default). No multiplicity correction here on purpose: a
    surging term is a feature of a passage, not a flag; the flag is decided per
    topic (`calibrated_rise`), where a topic's novel passages are tested against
    its own past novel passages, so terms that surge by chance every period are
    part of every topic's baseline and cancel out.
    Returns (surging term indices per period, (T, V) passages-per-term counts,
    (T,) the terms' dispersion per period); `tested`, when given, receives per period
    the tested term columns with their p-values, rate-ratio lower bounds (0 where the
    p-value exceeds q: not computed, they decide nothing there) and point ratios.
    Only the counts are used (`term_counts`): no passage is read.
    """
    tc = term_counts(tp, T)
    counts, n, srcs = tc.counts, tc.passages, tc.sources           # (T, V), (T,), (T, V)
    m = baseline(n, window)
    out = []
    phis = np.ones(T)
    none = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
    for t in range(T):
        if tested is not None:
            tested.append(none)
        if m[t] == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        x = counts[t]
        b = window_sum(counts, t, window)                          # one period's baseline
        z = residual_z(x, n[t], b, m[t])
        phi = phis[t] = dispersion(z, x + b)
        cand = np.flatnonzero((x >= min_volume) & (srcs[t] >= min_sources))
        if cand.size == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        p, _, lb, point = _sustained(counts[:, cand].T, n, t, window, phi, q, "significant")
        if tested is not None:
            tested[t] = (cand, p, lb, point)
        sig = (p <= q) & (lb >= min_ratio)
        out.append(cand[sig][np.argsort(p[sig], kind="stable")])
    return out, counts, phis


def topic_novelty(tp: TermPassages, K: int, T: int, window: int, q: float, min_volume: int,
                  min_sources: int, min_ratio: float) -> NoveltyResult:
    """Novel passages per topic and period, and the surging terms behind them.

    Each surging term of period t belongs to the topic holding most of its
    passages in t; a topic's novel passages are its passages in t that carry
    one of its own surging terms.
    """
    tested: list = []
    tc = term_counts(tp, T)
    srcs = tc.sources
    surging, counts, phis = surging_terms(tc, T, window, q, min_volume, min_sources, min_ratio,
                                          tested)
    X = tp.matrix.tocsc()
    novel = np.zeros((K, T))
    terms: dict[tuple[int, int], list[str]] = {}
    term_sources: dict[tuple[int, str], tuple[int, int]] = {}
    topical = tp.topic >= 0
    for t, cols in enumerate(surging):
        if cols.size == 0:
            continue
        in_t = (tp.period == t) & topical
        rows_t = np.flatnonzero(in_t)
        sub = X[:, cols].tocsr()[rows_t]                           # passages of t x surging terms
        topics_t = tp.topic[rows_t]
        per_topic = sparse.csr_matrix((np.ones(len(rows_t)), (topics_t, np.arange(len(rows_t)))),
                                      shape=(K, len(rows_t))) @ sub
        per_topic = np.asarray(per_topic.todense())                # (K, surging)
        owner = per_topic.argmax(axis=0)
        for j in range(len(cols)):                                 # most surprising first
            if per_topic[owner[j], j] <= 0:
                continue
            key = (int(owner[j]), t)
            terms.setdefault(key, []).append(tp.vocab[cols[j]])
            term_sources[(t, tp.vocab[cols[j]])] = (int(srcs[t, cols[j]]),
                                                    int(window_sum(srcs[:, cols[j]], t, window)))
        for k in set(int(o) for o in owner):
            carried = np.asarray(sub[:, np.flatnonzero(owner == k)].sum(axis=1)).ravel() > 0
            novel[k, t] = float((carried & (topics_t == k)).sum())
    return NoveltyResult(novel, terms, term_sources, phi=phis, tested=tested)


@dataclass
class CalibratedRise:
    """The outcome of the calibrated tests for every topic and period."""

    p_volume: np.ndarray      # (K, T)
    p_novel: np.ndarray       # (K, T)
    ratio_volume: np.ndarray  # (K, T) rate-ratio lower bound of the topic's volume (the score's)
    ratio_novel: np.ndarray   # (K, T) rate-ratio lower bound of its novel passages
    significant: np.ndarray   # (K, T) bool: discovery at FDR q over the period's topics
    reason: np.ndarray        # (K, T) "volume" | "novel terms" | ""
    phi_volume: np.ndarray    # (T,)
    phi_novel: np.ndarray     # (T,)


def calibrated_rise(volume: np.ndarray, total: np.ndarray, novel: np.ndarray, window: int,
                    q: float, min_ratio: float, novel_phi: np.ndarray | None = None,
                    novel_lump: float = 1.0) -> CalibratedRise:
    """Test every topic in every period for a rise in volume or in novel passages.

    Volume: the topic's passages against all passages, this period vs the
    baseline window. Novel: the topic's novel passages (a sub-cluster: its
    passages carrying its surging terms) against all passages, this period vs
    the topic's own novel passages in the baseline window (its own churn).
    Novel passages are made of term occurrences, so their dispersion is the
    terms' (`novel_phi`, from `topic_novelty`); without it, it is learned from
    the topics' novel counts like the volume's. Either way it is at least `novel_lump`:
    a term surges only with `min_volume` passages in the period, so novel passages come
    in lumps of at least that many (a topic holds 0, or 3 or more), and a count of lumps
    of size L varies L times as much as its mean (compound Poisson). Without that floor a
    topic whose three passages of the week carry a word that surged by chance was "new
    within the topic" against a baseline of zero. The smaller p-value
    of the two, doubled (Bonferroni over the two questions), goes into a
    Benjamini-Hochberg procedure over the period's topics. A discovery also
    needs the rate ratio of the winning question (point estimate) >= `min_ratio`.
    """
    V = np.asarray(volume, dtype=float)
    K, T = V.shape
    N = np.asarray(total, dtype=float)
    bv, mv = baseline(V, window), baseline(N, window)
    nv = np.asarray(novel, dtype=float)
    bn = baseline(nv, window)
    shape = (K, T)
    out = CalibratedRise(np.ones(shape), np.ones(shape), np.zeros(shape), np.zeros(shape),
                         np.zeros(shape, dtype=bool), np.full(shape, "", dtype=object),
                         np.ones(T), np.ones(T))
    # Residuals of every topic in every period against its own baseline: the noise model.
    zv_all = residual_z(V, N[None, :], bv, mv[None, :])
    ok_v = (V + bv >= MIN_DISPERSION_TRIALS) & (mv[None, :] > 0)
    zn_all = residual_z(nv, N[None, :], bn, mv[None, :])
    ok_n = (nv + bn > 0) & (bv > 0)
    for t in range(T):
        if mv[t] == 0:
            continue
        zv = zv_all[:, t]
        phi = past_dispersion(zv_all, ok_v, t, window)
        out.phi_volume[t] = phi if phi is not None else dispersion(zv, V[:, t] + bv[:, t])
        pv, lv, _, point_v = _sustained(V, N, t, window, out.phi_volume[t], q, "h1")
        zn = zn_all[:, t]
        if novel_phi is not None:
            out.phi_novel[t] = max(1.0, float(novel_phi[t]), novel_lump)
        else:
            phi = past_dispersion(zn_all, ok_n, t, window)
            phi = phi if phi is not None else dispersion(zn, nv[:, t] + bn[:, t])
            out.phi_novel[t] = max(phi, novel_lump)
        pn, ln = rate_test(nv[:, t], N[t], bn[:, t], mv[t], out.phi_novel[t], q)
        # A topic with no past passages is new: its volume test covers it.
        pn = np.where(bv[:, t] > 0, pn, 1.0)
        ln = np.where(bv[:, t] > 0, ln, 0.0)
        out.p_volume[:, t], out.p_novel[:, t] = pv, pn
        out.ratio_volume[:, t], out.ratio_novel[:, t] = lv, ln
        present = V[:, t] > 0
        p = np.where(present, np.minimum(1.0, 2 * np.minimum(pv, pn)), np.nan)
        disc = benjamini_hochberg(p, q)
        win_volume = pv <= pn
        # Effect size of the winning question: the rate ratio's point estimate (half a
        # passage in an empty baseline); the test above already says how sure it is.
        point_n = point_ratio(nv[:, t], N[t], bn[:, t], mv[t])
        ratio = np.where(win_volume, point_v, point_n)
        out.significant[:, t] = disc & (ratio >= min_ratio)
        out.reason[:, t] = np.where(out.significant[:, t],
                                    np.where(win_volume, "volume", "novel terms"), "")
    return out


def _sustained(X: np.ndarray, N: np.ndarray, t: int, window: int, phi: float, q: float,
               bounds: str = "all"):
    """The rate test at the scales of SCALES periods, for the rows of X (items x periods,
    a topic's volume or a term's passages) against the period totals N: the last h
    periods ending at t against the `window` periods before them; the smallest p-value
    times the number of scales tested (Bonferroni). A jump shows at h = 1, a steady climb
    of a few passages a period at h = 2 or 3, where its evidence adds up. Returns (p,
    rate-ratio lower bound at h = 1, and of the winning scale, point rate ratio of the
    winning scale).

    `bounds` says which lower bounds are computed (the rest are 0): "all"; "h1", the bound
    at h = 1 of every row (the topic test); "significant", the winning scale's bound of
    the rows whose p is at most q only (the term tests: a bound decides nothing where p
    exceeds q, and there are thousands of terms a period)."""
    best_p = np.ones(X.shape[0])
    best_ratio = np.zeros(X.shape[0])
    best_lb = np.zeros(X.shape[0])
    best_scale = np.full(X.shape[0], -1)
    lb1 = np.zeros(X.shape[0])
    scales = []
    for h in SCALES:
        lo = t - h + 1
        if lo - 1 < 0 or lo - window < 0 and h > 1:
            continue
        x, n = X[:, lo:t + 1].sum(axis=1), N[lo:t + 1].sum()
        b, m = X[:, max(0, lo - window):lo].sum(axis=1), N[max(0, lo - window):lo].sum()
        if m == 0:
            continue
        p = rate_p(x, n, b, m, phi)
        ratio = point_ratio(x, n, b, m)
        if h == 1 and bounds in ("all", "h1"):
            lb1 = rate_bound(x, n, b, m, phi, q)
        scales.append((x, n, b, m))
        better = p < best_p
        best_p = np.where(better, p, best_p)
        best_ratio = np.where(better, ratio, best_ratio)
        best_scale = np.where(better, len(scales) - 1, best_scale)
    p = np.minimum(1.0, best_p * max(len(scales), 1))
    if bounds != "h1":
        rows = np.ones(X.shape[0], dtype=bool) if bounds == "all" else p <= q
        for i, (x, n, b, m) in enumerate(scales):
            sel = rows & (best_scale == i)
            if sel.any():
                best_lb[sel] = rate_bound(x[sel], n, b[sel], m, phi, q)
    return p, lb1, best_lb, best_ratio
