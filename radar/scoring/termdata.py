"""The weak-signal tier's term data: which terms the scored passages carry, and their counts.

Pure data and pure functions (no database). The tests of radar/scoring/novelty.py and
radar/scoring/themes.py need two things:

- per period and term, how many passages carry the term and from how many distinct
  sources (`TermCounts`): every term's count enters the period's dispersion, so these are
  needed for the whole vocabulary;
- for the few terms that surge in a period, which passages of that period carry them, with
  their topic, source and author (`TermPassages.matrix` and its per-passage arrays).

In memory the counts are computed from a matrix of every passage (`term_counts`). Read
from a large warehouse, the counts come from SQL and the matrix holds only the passages of
each period that carry a term the tests need there (`TermPassages.counts` set and
`chosen_for` the settings they were chosen for), so memory follows the vocabulary, not the
corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass
class TermCounts:
    """Per period (rows) and term (columns): passages carrying the term, and their sources."""

    counts: np.ndarray          # (T, V) passages carrying each term in each period
    sources: np.ndarray         # (T, V) distinct sources of those passages
    passages: np.ndarray        # (T,) scored passages per period, with or without terms
    period_sources: np.ndarray  # (T,) distinct sources with any scored passage in the period


@dataclass
class TermPassages:
    """Which terms each passage carries (binary passages x terms), and where the passage sits.

    With `counts` set, the matrix holds only some passages (those carrying a term some test
    needs in their period, chosen for the term-test settings `chosen_for`) and the counts
    say what the whole corpus holds; without, the matrix holds every scored passage."""

    matrix: sparse.csr_matrix   # (passages, terms), 1 = the passage carries the term
    vocab: list[str]
    period: np.ndarray          # period index of each passage
    topic: np.ndarray           # row of the passage's topic in the series (-1: outlier)
    source: np.ndarray          # source index of each passage (for "mentioned by n sources")
    author: np.ndarray | None = None  # citizen author index of each passage (-1: none known)
    counts: TermCounts | None = None  # the corpus's counts when the matrix holds a selection
    chosen_for: tuple | None = None   # the term-test settings the selection was made for


def term_counts(data: TermPassages | TermCounts, T: int) -> TermCounts:
    """The counts of `data`: as given, or counted from a matrix of every passage."""
    if isinstance(data, TermCounts):
        return data
    if data.counts is not None:
        return data.counts
    X = data.matrix.tocsr()
    P = sparse.csr_matrix((np.ones(len(data.period)), (data.period, np.arange(len(data.period)))),
                          shape=(T, X.shape[0]))
    per_period = [np.unique(data.source[data.period == t]).size for t in range(T)]
    return TermCounts(np.asarray((P @ X).todense(), dtype=float), source_counts(X, data, T),
                      np.bincount(data.period, minlength=T).astype(float),
                      np.asarray(per_period, dtype=float))


def source_counts(X: sparse.csr_matrix, tp: TermPassages, T: int) -> np.ndarray:
    """(T, V) distinct sources carrying each term in each period.

    Passages are summed into (period, source) rows (a sparse sum, no sort), every
    non-zero made 1, and the rows of a period added up."""
    coo = X.tocoo()
    if coo.nnz == 0:
        return np.zeros((T, X.shape[1]))
    S = int(tp.source.max()) + 1
    by_source = sparse.csr_matrix(
        (np.ones(coo.nnz, dtype=np.float32), (tp.period[coo.row] * S + tp.source[coo.row], coo.col)),
        shape=(T * S, X.shape[1]))                                 # duplicates summed
    by_source.data[:] = 1.0
    periods = sparse.csr_matrix((np.ones(T * S), (np.arange(T * S) // S, np.arange(T * S))),
                                shape=(T, T * S))
    return (periods @ by_source).toarray()                      # float64
