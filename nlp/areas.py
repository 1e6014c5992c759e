"""Service areas: each topic gets the area of the taxonomy its embedding is closest to.

The taxonomy (`[[areas]]` in radar.toml: name and short description) is
embedded once with the passage model and kept in the `service_areas` table;
when a user edits it, the next `radar analyze` re-embeds the areas and
re-assigns every topic, without refitting topics. A topic is compared by the
mean of its centroid direction and the embedding of its top terms; below
`area_threshold` it is "other".
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from nlp.identity import normalise

OTHER = "other"


def area_text(name: str, description: str) -> str:
    """What is embedded for an area."""
    return f"{name}: {description}"


def taxonomy_hash(areas: list[tuple[str, str]], model: str) -> str:
    """Changes whenever the taxonomy or the embedding model changes."""
    return hashlib.sha256(json.dumps([areas, model]).encode()).hexdigest()[:16]


def best_areas(
    topic_vectors: np.ndarray, area_names: list[str], area_vectors: np.ndarray, threshold: float
) -> list[tuple[str, float]]:
    """(area name or "other", similarity) per topic vector."""
    if len(topic_vectors) == 0:
        return []
    if not area_names:
        return [(OTHER, 0.0)] * len(topic_vectors)
    sims = normalise(topic_vectors) @ normalise(area_vectors).T
    best = sims.argmax(axis=1)
    out = []
    for row, col in enumerate(best):
        s = float(sims[row, col])
        out.append((area_names[col] if s >= threshold else OTHER, s))
    return out


def topic_vectors(centroids: np.ndarray, term_vectors: np.ndarray | None) -> np.ndarray:
    """A topic's direction for area matching: its centroid, averaged with its terms' embedding."""
    c = normalise(centroids)
    if term_vectors is None or len(term_vectors) != len(c):
        return c
    return normalise(c + normalise(term_vectors))
