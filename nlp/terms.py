"""Topic terms by class-based TF-IDF (BERTopic's formula) and short labels made from them.

Terms are lemma unigrams and bigrams (content words only, so a bigram is a phrase). Words that fill the whole
corpus in every period ("united nations", a repeated document title, "say")
name no topic: they are learned per corpus (`common_terms`) and never become
topic terms or label words.

Computed here rather than read from BERTopic so that labels can be refreshed
after every incremental assignment without importing BERTopic. Per topic c and
term t: w(t, c) = sqrt(tf(t, c)) * log(1 + A / f(t)), where tf is the term's
share of the words in c (the square root damps very frequent words, BERTopic's
`reduce_frequent_words`), f(t) its count over all topics and A the average
number of words per topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

import numpy as np

# A word one voice says does not name a topic many voices share: in a topic, a term whose
# passages come more than this share from one voice (a source; an author, for citizen posts),
# and more than the topic's own passages do, ranks after the words its voices share.
MAX_VOICE_SHARE = 0.5

# A term is corpus-wide common when it occurs in every period and its passages spread over
# the topics at least half as evenly as all passages do: (e_term - 1) / (e_all - 1) >= 0.5,
# e = effective number of topics (exp entropy), so one topic only = 0 and as even as all = 1.
COMMON_SPREAD = 0.5


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's CountVectorizer default


def count_terms(docs: Sequence[str], stop_words: Sequence[str] = (), min_df: int = 1):
    """(passages x terms) counts of the unigrams and bigrams of `docs` and the terms in code
    point order: what scikit-learn's `CountVectorizer(ngram_range=(1, 2), min_df=min_df,
    stop_words=stop_words)` gives (tested), without importing scikit-learn (1.1 s of every
    incremental `radar analyze`, where nothing else needs it). ValueError when no term is
    left, as there.

    Counted with arrays, not a Counter per passage: words get ids, a bigram is the pair of
    its words' ids, and only the kept bigrams are written out as strings (6,298 development
    passages' terms: 0.32-0.53 -> 0.19-0.20 s; every `radar analyze` recounts all passages)."""
    from scipy import sparse

    stop = set(stop_words)
    tokens = [[t for t in _TOKEN.findall((doc or "").lower()) if t not in stop] for doc in docs]
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    flat = list(chain.from_iterable(tokens))
    words = list(dict.fromkeys(flat))
    index = {w: i for i, w in enumerate(words)}
    word_ids = np.fromiter(map(index.__getitem__, flat), np.int64, len(flat))
    n_words = len(words)
    doc_of = np.repeat(np.arange(len(tokens)), lengths)
    pair = doc_of[1:] == doc_of[:-1]  # neighbours within one passage make a bigram
    pairs, bigram_ids = np.unique(word_ids[:-1][pair] * max(n_words, 1) + word_ids[1:][pair],
                                  return_inverse=True)
    columns = np.concatenate([word_ids, n_words + bigram_ids.ravel()])
    rows = np.concatenate([doc_of, doc_of[1:][pair]])
    x = sparse.csr_matrix((np.ones(columns.size, dtype=np.int64), (rows, columns)),
                          shape=(len(tokens), n_words + len(pairs)))  # repeats add up
    keep = np.flatnonzero(np.bincount(x.indices, minlength=x.shape[1]) >= min_df)
    if keep.size == 0:
        raise ValueError("empty vocabulary: no term in enough passages")
    pairs = pairs.tolist()
    names = np.array([words[k] if k < n_words else
                      f"{words[pairs[k - n_words] // n_words]} {words[pairs[k - n_words] % n_words]}"
                      for k in keep.tolist()], dtype=str)  # only the kept bigrams are written
    order = np.argsort(names, kind="stable")
    return x[:, keep[order]].tocsr(), names[order]


def common_terms(x, vocab: Sequence[str], labels: np.ndarray,
                 periods: np.ndarray | None) -> dict[str, float]:
    """Terms common across the whole corpus and all periods, learned from the corpus.

    `x` is the (passages x terms) count matrix, `labels` the topic of each
    passage (-1 outliers are left out of the spread), `periods` a period key per
    passage (None: one period). A term is common when it occurs in every period
    and its passages spread over the topics at least COMMON_SPREAD as evenly as
    all passages do (see COMMON_SPREAD): it says nothing about any one
    topic. "united nations" in a corpus of UN speeches, a title repeated on
    every passage, "council" in a city's news. Returns term -> spread.
    """
    from scipy import sparse

    labels = np.asarray(labels)
    x = sparse.csr_matrix(x)
    present = np.ones(x.shape[1], dtype=bool)
    if periods is not None:
        periods = np.asarray(periods)
        for p in np.unique(periods):
            present &= np.asarray((x[periods == p] > 0).sum(axis=0)).ravel() > 0
    topical = labels >= 0
    topics = np.unique(labels[topical])
    if len(topics) < 2 or not present.any():
        return {}
    index = np.searchsorted(topics, labels[topical])
    member = sparse.csr_matrix((np.ones(topical.sum()), (index, np.arange(topical.sum()))),
                               shape=(len(topics), topical.sum()))
    counts = member @ (x[topical] > 0).astype(np.float64)  # topics x terms, sparse
    sizes = np.bincount(index, minlength=len(topics)).astype(np.float64)
    overall = _effective(sizes[:, None])[0]
    if overall <= 1:
        return {}
    spread = (_effective_sparse(counts) - 1) / (overall - 1)   # 0: one topic only, 1: as even as all
    return {str(vocab[j]): float(spread[j]) for j in np.flatnonzero(present & (spread >= COMMON_SPREAD))}


def _effective_sparse(counts) -> np.ndarray:
    """`_effective` of a sparse (topics x terms) matrix without making it dense (at 100k
    passages, 1,000 topics x 300k terms would be 2.4 GB per dense copy)."""
    c = counts.tocsc()
    total = np.asarray(c.sum(axis=0)).ravel()
    col = np.repeat(np.arange(c.shape[1]), np.diff(c.indptr))
    p = c.data / np.maximum(total[col], 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(p > 0, p * np.log(p), 0.0)
    h = -np.bincount(col, weights=contrib, minlength=c.shape[1])
    return np.where(total > 0, np.exp(h), 0.0)


def _effective(counts: np.ndarray) -> np.ndarray:
    """exp(Shannon entropy) of each column's distribution over rows (0 for empty columns)."""
    total = counts.sum(axis=0)
    p = counts / np.maximum(total, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=0)
    return np.where(total > 0, np.exp(h), 0.0)


def topic_terms(
    docs: Sequence[str],
    labels: np.ndarray,
    *,
    n_terms: int = 10,
    stop_words: Sequence[str] = (),
    min_df: int | None = None,
    periods: np.ndarray | None = None,
    common: set[str] | None = None,
    learned: dict[str, float] | None = None,
    voices: np.ndarray | None = None,
) -> dict[int, list[str]]:
    """The top `n_terms` terms of every topic label >= 0 (outliers only count towards f(t)).

    Corpus-wide common terms (`common_terms`, learned from `docs` with the
    passages' `periods`; or the `common` set given) are never topic terms, nor
    is an n-gram leaning on one (`_leans_on_common`). The learned common terms
    (term -> spread) are added to `learned` when given. With `voices` (who says
    each passage: a source, or a citizen author), a term one voice says in a topic
    of several (`one_voice_terms`) ranks after the terms its voices share: a
    speaker naming itself ("kingdom swaziland"), an outlet's boilerplate."""
    from scipy import sparse

    labels = np.asarray(labels)
    topics = sorted(int(t) for t in set(labels.tolist()) if t >= 0)
    if not topics:
        return {}
    if min_df is None:
        min_df = 2 if len(docs) >= 200 else 1
    try:
        x, vocab = count_terms(docs, stop_words, min_df)
    except ValueError:  # empty vocabulary: no usable words at all
        return {t: [] for t in topics}
    classes = np.array([t if t >= 0 else len(topics) for t in labels])  # outliers in one class
    index = {t: i for i, t in enumerate(topics)}
    rows = np.array([index.get(int(c), len(topics)) for c in classes])
    member = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))),
                               shape=(len(topics) + 1, len(rows)))
    # Sparse throughout: topics x terms is mostly zeros, and dense it grows with topics x
    # vocabulary (hundreds of MB at 6k passages, gigabytes at 100k).
    counts = (member @ x).tocsr().astype(np.float64)
    row_sums = np.asarray(counts.sum(axis=1)).ravel()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg = counts.sum() / max(counts.shape[0], 1)
    idf = np.log1p(avg / np.maximum(freq, 1))
    weights = counts.copy()  # sqrt(tf) * idf on the stored entries, as the dense formula does
    row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    weights.data = np.sqrt(counts.data / np.maximum(row_sums, 1)[row_of]) * idf[counts.indices]
    if common is None:
        found = common_terms(x, vocab, labels, periods)
        if learned is not None:
            learned.update(found)
        common = set(found)
    if common:
        keep = np.array([not _leans_on_common(str(v), common) for v in vocab], dtype=np.float64)
        weights = sparse.csr_matrix(weights.multiply(keep[None, :]))
    if voices is not None:
        lone = one_voice_terms(x, rows, np.asarray(voices), len(topics) + 1)
        # Still ranked, after every shared term: a topic of lone words keeps a label.
        weights = sparse.csr_matrix(weights - weights.multiply(lone) * (1 - 1e-6))
    out: dict[int, list[str]] = {}
    weights = weights.tocsr()
    for t, i in index.items():
        row = weights[i]  # a topic's stored weights: the terms it holds
        kept = row.data > 0
        cols, vals = row.indices[kept], row.data[kept]
        order = cols[np.lexsort((cols, -vals))][: n_terms * 2]  # ties by code point
        out[t] = dedupe_terms([str(vocab[j]) for j in order])[:n_terms]
    return out


def one_voice_terms(x, rows: np.ndarray, voices: np.ndarray, n_topics: int):
    """(topics x terms) sparse, 1 where the term's passages in the topic come more than
    MAX_VOICE_SHARE from one voice, and more than the topic's own passages do (so a topic
    of one voice, a one-source corpus, keeps all its words). `x` is (passages x terms),
    `rows` the topic row of each passage, `voices` who says each passage (any labels)."""
    from scipy import sparse

    _, voice = np.unique(np.asarray(voices, dtype=str), return_inverse=True)
    n_voices = int(voice.max()) + 1 if voice.size else 1
    rows = np.asarray(rows, dtype=np.int64)
    # The topic's own concentration: its largest voice's share of its passages.
    tv, tv_n = np.unique(rows * n_voices + voice, return_counts=True)
    topic_of = tv // n_voices
    topic_top = np.zeros(n_topics)
    np.maximum.at(topic_top, topic_of, tv_n / np.bincount(rows, minlength=n_topics)[topic_of])
    # Each (topic, term): its largest voice's share of the passages carrying it.
    xb = sparse.csr_matrix(x).tocoo()
    n_terms = x.shape[1]
    key = (rows[xb.row] * n_terms + xb.col) * n_voices + voice[xb.row]
    ktv, count = np.unique(key, return_counts=True)
    kt = ktv // n_voices
    starts = np.flatnonzero(np.r_[True, kt[1:] != kt[:-1]])
    top, total = np.maximum.reduceat(count, starts), np.add.reduceat(count, starts)
    topic, term = kt[starts] // n_terms, kt[starts] % n_terms
    share = top / total
    lone = (share > MAX_VOICE_SHARE) & (share > topic_top[topic])
    return sparse.csr_matrix((np.ones(int(lone.sum())), (topic[lone], term[lone])),
                             shape=(n_topics, n_terms))


def _leans_on_common(term: str, common: set[str]) -> bool:
    """A term that is common, begins or ends with a common word, or contains a common
    phrase ("nations landmine", "general debate statement") cannot name a topic."""
    words = term.split()
    if term in common or words[0] in common or words[-1] in common:
        return True
    return any(" ".join(words[i:j]) in common
               for i in range(len(words)) for j in range(i + 2, len(words) + 1))


def _inside(short: list[str], long: list[str]) -> bool:
    """True when the words `short` appear contiguously in `long`."""
    n = len(short)
    return n < len(long) and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def dedupe_terms(terms: list[str]) -> list[str]:
    """Keep the longest phrase of a family: drop a term inside a higher-ranked phrase, let a
    phrase replace a higher-ranked term it contains ("bike" then "bike lane" -> "bike
    lane"), and drop n-grams repeating one word."""
    kept: list[list[str]] = []
    for term in terms:
        words = term.split()
        if len(words) > 1 and len(set(words)) == 1:
            continue
        if any(k == words or _inside(words, k) for k in kept):
            continue
        inner = [i for i, k in enumerate(kept) if _inside(k, words)]
        if inner:
            kept[inner[0]] = words
            kept = [k for i, k in enumerate(kept) if i not in inner[1:]]
        else:
            kept.append(words)
    return [" ".join(k) for k in kept]


def label_terms(terms: list[str], max_words: int = 4) -> list[str]:
    """The terms a label is made of: the best phrase, then the next ones that add a new
    word while the label stays within `max_words` (2-4 words, e.g. "landmine ban" and
    "mine clearance", or "bike lane" and "cycling")."""
    chosen: list[str] = []
    used: set[str] = set()
    n_words = 0
    for term in terms:
        words = term.split()
        if used & set(words) or n_words + len(words) > max_words:
            continue
        chosen.append(term)
        used.update(words)
        n_words += len(words)
        if n_words >= 2 and len(chosen) >= 2:
            break
    return chosen or list(terms[:1])


def label_window(terms: list[str]) -> int:
    """How many of the first `terms` a label may draw on: as far as the fresh label's last
    term (`label_terms` skips a term sharing a word with one chosen), and one more."""
    fresh = label_terms(list(terms))
    return max(terms.index(t) for t in fresh) + 2 if fresh else 0


def label_still_fits(old_terms: list[str] | None, new_terms: list[str]) -> bool:
    """Whether the label made of `old_terms` (`label_terms` of them) still names a topic whose
    terms are now `new_terms`: each of its terms is among the first `label_window` new ones
    (the terms a fresh label draws on, and one more: the label's own terms reordered, or
    with one other term risen among them). A small run reorders near-tied terms (after a
    1% edit of the dev corpus 57 of 181 topics' top terms changed, and 10 labels, some only
    in their order: "NRU, Nauru join" for "Nauru join, NRU"); a label that still fits is
    kept, so a reader sees the same name. A looser rule (any of the first five) kept labels
    of terms long overtaken by better ones."""
    if not old_terms or not new_terms:
        return False
    return set(label_terms(list(old_terms))) <= set(new_terms[:label_window(new_terms)])


def short_label(terms: list[str], max_words: int = 4) -> str:
    """A short readable label of 2-4 words from the top terms (`label_terms`), e.g.
    "landmine ban, mine clearance" or "bike lane, cycling"."""
    if not terms:
        return "(no terms)"
    return ", ".join(label_terms(terms, max_words))
