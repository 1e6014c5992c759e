"""Topic terms by class-based TF-IDF (BERTopic's formula) and short labels made from them.

Computed here rather than read from BERTopic so that labels can be refreshed
after every incremental assignment without importing BERTopic. Per topic c and
term t: w(t, c) = sqrt(tf(t, c)) * log(1 + A / f(t)), where tf is the term's
share of the words in c (the square root damps very frequent words, BERTopic's
`reduce_frequent_words`), f(t) its count over all topics and A the average
number of words per topic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def topic_terms(
    docs: Sequence[str],
    labels: np.ndarray,
    *,
    n_terms: int = 10,
    stop_words: Sequence[str] = (),
    min_df: int | None = None,
) -> dict[int, list[str]]:
    """The top `n_terms` terms of every topic label >= 0 (outliers only count towards f(t))."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    topics = sorted(int(t) for t in set(labels.tolist()) if t >= 0)
    if not topics:
        return {}
    if min_df is None:
        min_df = 2 if len(docs) >= 200 else 1
    vec = CountVectorizer(ngram_range=(1, 2), min_df=min_df, stop_words=list(stop_words) or None)
    try:
        x = vec.fit_transform([d or "" for d in docs])
    except ValueError:  # empty vocabulary: no usable words at all
        return {t: [] for t in topics}
    vocab = vec.get_feature_names_out()
    classes = np.array([t if t >= 0 else len(topics) for t in labels])  # outliers in one class
    index = {t: i for i, t in enumerate(topics)}
    rows = np.array([index.get(int(c), len(topics)) for c in classes])
    member = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))),
                               shape=(len(topics) + 1, len(rows)))
    counts = (member @ x).toarray().astype(np.float64)
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    freq = counts.sum(axis=0)
    avg = counts.sum() / max(len(counts), 1)
    weights = np.sqrt(tf) * np.log1p(avg / np.maximum(freq, 1))
    out: dict[int, list[str]] = {}
    for t, i in index.items():
        order = np.argsort(-weights[i])
        out[t] = [str(vocab[j]) for j in order[: n_terms * 2] if weights[i, j] > 0]
        out[t] = dedupe_terms(out[t])[:n_terms]
    return out


def dedupe_terms(terms: list[str]) -> list[str]:
    """Drop a unigram already inside a higher-ranked bigram, and bigrams repeating one word."""
    kept: list[str] = []
    seen_words: set[str] = set()
    for term in terms:
        words = term.split()
        if len(words) > 1 and len(set(words)) == 1:
            continue
        if len(words) == 1 and term in seen_words:
            continue
        if len(words) > 1 and any(k == w for k in kept for w in words):
            # "bike lane" after "bike": replace the unigram with the phrase
            kept = [k for k in kept if k not in words]
        kept.append(term)
        seen_words.update(words)
    return kept


def short_label(terms: list[str], n: int = 3) -> str:
    """A short readable label from the top terms, e.g. "bike lane, cycling, road"."""
    return ", ".join(terms[:n]) if terms else "(no terms)"
