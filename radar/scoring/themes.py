"""New themes inside a topic: the radar's weak-signal tier.

A new theme often lives inside an old topic for a period or two before it moves
the topic as a whole: seven paragraphs on Kosovo in a Balkans topic of sixty,
the tsunami inside disaster relief, a new tool inside a service's forum. The
calibrated rise test (radar/scoring/novelty.py) asks whether the *topic* rose,
at a false-discovery rate over the period's topics; it decides Act and Prepare.
This module asks a smaller question with the same calibration: did a *term*
rise beyond the corpus's own noise, at a false-discovery rate over every term
tested in the period (Benjamini-Hochberg over terms, on the terms' own
dispersion-corrected tests: in a period where no word really surges the chance
of any confirmed term is at most q)?

Each confirmed term belongs to the topic holding most of its passages in the
period (as for novel passages). A topic holds a **new theme** when the
passages of the period carrying its confirmed terms are at least `min_volume`,
come from at least `min_sources` sources, and, when most of them are citizen
posts, from at least `min_authors` authors with none writing more than
`max_top_author_share` of them (one loud voice is not a theme). Such a topic is
a weak signal (ring Watch unless the topic itself passes the topic test), with
its new terms and counts in the one-sentence reason. A topic that held a new
theme in at least half of the `window` periods before (and at least two)
**churns**: a new name every period (the congratulations to each year's
president, a weekly match report) is its routine, not news, so its themes are
not flagged; its own calibrated novelty test still is. The theme's credible
growth is the largest rate-ratio lower bound among its terms (how surely its
strongest word at least multiplied); the score's growth part uses it, so a
topic with a new theme ranks by how sure that theme is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from radar.scoring.metrics import effective_number
from radar.scoring.novelty import TermPassages, benjamini_hochberg, surging_terms
from radar.scoring.termdata import TermCounts


@dataclass
class ThemeResult:
    """Per topic and period: does it hold a new theme, with which terms, how many passages."""

    present: np.ndarray                        # (K, T) bool
    passages: np.ndarray                       # (K, T) passages carrying the theme's terms
    sources: np.ndarray                        # (K, T) distinct sources of those passages
    in_topic: np.ndarray                       # (K, T) of those passages, the topic's own
    ratio: np.ndarray                          # (K, T) largest rate-ratio lower bound (0: none)
    effective_sources: np.ndarray | None = None  # (K, T) exp(entropy) over those passages' sources
    terms: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # most surprising first


def confirmed_terms(tested, q: float, min_ratio: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per period, the term columns whose surge survives Benjamini-Hochberg at q over every
    term tested in the period and whose rate ratio (point estimate, as for topics) is at
    least `min_ratio`, most surprising first, with their rate-ratio lower bounds."""
    out = []
    for cols, p, lb, point in tested:
        if len(cols) == 0:
            out.append((np.zeros(0, dtype=np.int64), np.zeros(0)))
            continue
        ok = benjamini_hochberg(p, q) & (np.asarray(point) >= min_ratio)
        order = np.argsort(p[ok], kind="stable")
        out.append((np.asarray(cols)[ok][order], np.asarray(lb)[ok][order]))
    return out


def term_test_settings(sc) -> tuple:
    """The settings the term tests run with, from a ScoringConfig: (window, q, min_volume,
    min_sources, min_ratio), the arguments of `surging_terms` and `new_themes` after K and T."""
    return (sc.baseline_periods, sc.fdr, sc.min_volume, sc.min_sources, 1.0 + sc.min_growth)


def needed_terms(counts: TermCounts, T: int, window: int, q: float, min_volume: int,
                 min_sources: int, min_ratio: float) -> list[np.ndarray]:
    """Per period, the term columns whose passages the tests read: the surging terms (novel
    passages, `topic_novelty`) and the confirmed ones (new themes). From the counts alone,
    so a large corpus reads the passages of these terms only."""
    tested: list = []
    surging, _, _ = surging_terms(counts, T, window, q, min_volume, min_sources, min_ratio,
                                  tested)
    confirmed = confirmed_terms(tested, q, min_ratio)
    return [np.union1d(s, c) for s, (c, _) in zip(surging, confirmed, strict=True)]


def _loud(authors: np.ndarray, passages: int, min_authors: int, max_share: float) -> bool:
    """Mostly citizen posts from fewer than `min_authors` people, or one person writing
    more than `max_share` of them."""
    known = authors[authors >= 0]
    if known.size * 2 < passages:
        return False
    _, counts = np.unique(known, return_counts=True)
    return counts.size < min_authors or counts.max() / known.size > max_share


def new_themes(tp: TermPassages, tested, K: int, T: int, window: int, q: float,
               min_volume: int, min_sources: int, min_ratio: float, min_authors: int = 5,
               max_top_author_share: float = 0.5) -> ThemeResult:
    """The new themes of every topic and period (see module doc). `tested` is what
    `radar.scoring.novelty.surging_terms` tested in each period: (term columns, p-values,
    rate-ratio lower bounds)."""
    out = ThemeResult(np.zeros((K, T), dtype=bool), np.zeros((K, T)), np.zeros((K, T)),
                      np.zeros((K, T)), np.zeros((K, T)), np.zeros((K, T)))
    X = tp.matrix.tocsc()
    for t, (cols, bounds) in enumerate(confirmed_terms(tested, q, min_ratio)):
        if cols.size == 0 or t >= T:
            continue
        rows_t = np.flatnonzero(tp.period == t)
        sub = X[:, cols].tocsr()[rows_t]                             # passages of t x terms
        topics_t = tp.topic[rows_t]
        on_topic = topics_t >= 0
        if not on_topic.any():
            continue
        onehot = sparse.csr_matrix((np.ones(on_topic.sum()), (topics_t[on_topic],
                                                               np.flatnonzero(on_topic))),
                                   shape=(K, rows_t.size))
        per_topic = np.asarray((onehot @ sub).todense())             # (K, terms)
        owner = per_topic.argmax(axis=0)
        for k in np.unique(owner):
            mine = (owner == k) & (per_topic[k] > 0)
            if not mine.any():
                continue
            # The theme is every passage carrying its terms: a new theme is often spread over
            # a few topics at first; it lives in (and is shown with) the one holding most.
            carried = np.asarray(sub[:, np.flatnonzero(mine)].sum(axis=1)).ravel() > 0
            rows = rows_t[carried]
            _, per_source = np.unique(tp.source[rows], return_counts=True)
            n_sources = per_source.size
            if rows.size < min_volume or n_sources < min_sources:
                continue
            if tp.author is not None and _loud(tp.author[rows], rows.size, min_authors,
                                               max_top_author_share):
                continue
            out.present[k, t] = True
            out.passages[k, t] = rows.size
            out.sources[k, t] = n_sources
            out.effective_sources[k, t] = effective_number(per_source)
            out.in_topic[k, t] = int((carried & (topics_t == k)).sum())
            out.ratio[k, t] = float(np.max(bounds[mine]))
            out.terms[(int(k), t)] = [tp.vocab[c] for c in cols[mine]]
    _drop_churn(out, window)
    return out


def _drop_churn(out: ThemeResult, window: int) -> None:
    """Topics that held a new theme in at least half of the `window` periods before (and at
    least two) churn: their themes of this period are routine and are dropped."""
    raw = out.present.copy()
    for t in range(out.present.shape[1]):
        lo = max(0, t - window)
        past = raw[:, lo:t].sum(axis=1)
        churn = (past >= 2) & (past * 2 >= t - lo)
        for k in np.flatnonzero(churn & raw[:, t]):
            out.present[k, t] = False
            out.passages[k, t] = out.sources[k, t] = out.ratio[k, t] = out.in_topic[k, t] = 0.0
            out.effective_sources[k, t] = 0.0
            out.terms.pop((int(k), t), None)
