"""UMAP's numba functions are compiled once, to run without the GIL (so spaCy runs beside a
fit, nlp/pipeline.py), and kept on disk under names of their own: the next process loads
them, and never a cache compiled holding the GIL."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIT = """
import json, sys
import numpy as np
from nlp.topics import fit_clusters

rng = np.random.default_rng(3)
centres = rng.normal(size=(4, 32))
x = np.vstack([c + 0.05 * rng.normal(size=(30, 32)) for c in centres]).astype(np.float32)
result = fit_clusters(x, min_topic_size=5)
print(json.dumps({"labels": result.labels.tolist(),
                  "reduced": np.round(result.model["reduced"], 5).tolist()}))
"""


def _fit(cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seed_pynndescent(cache: Path) -> None:
    """Put pynndescent's own numba cache (declared cacheable, compiled when it is imported:
    ~13 s in a fresh cache folder) into `cache`, so the first fit compiles only UMAP's."""
    import importlib.util
    import shutil

    from numba.core.caching import _CacheLocator

    subprocess.run([sys.executable, "-c", "import pynndescent"], check=True, timeout=300,
                   env={k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"})
    origin = importlib.util.find_spec("pynndescent").origin
    target = cache / _CacheLocator.get_suitable_cache_subpath(origin)
    target.mkdir(parents=True)
    for f in (Path(origin).parent / "__pycache__").glob("*.nb[ic]"):
        shutil.copy2(f, target / f.name)


def test_umap_compilations_are_cached_and_give_the_same_coordinates(tmp_path):
    _seed_pynndescent(tmp_path)  # if its cache lives elsewhere, the first fit compiles it too
    first = _fit(tmp_path)  # compiles and writes the cache
    kept = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi") if p.name.endswith("-nogil.nbi")}
    # UMAP's own (not declared cacheable): the layout optimiser and the graph's functions
    assert {"layouts._optimize_layout_euclidean_single_epoch", "layouts.clip",
            "umap_.smooth_knn_dist", "umap_.compute_membership_strengths"} <= kept, sorted(kept)
    written = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.nbc")}
    second = _fit(tmp_path)  # loads it
    assert second == first
    assert len(set(first["labels"]) - {-1}) == 4
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.nbc")} == written  # read, not rewritten
