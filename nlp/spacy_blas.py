"""spaCy's models multiplying matrices with numpy's BLAS, on one thread: the same
annotations for less CPU.

thinc (under spaCy) multiplies its layers' matrices with BLIS by default. numpy ships
OpenBLAS, which picks its kernels for the CPU it runs on; on one thread it did the
tok2vec layer (half of the analysis's spaCy pass) in 2.2-2.4 CPU s instead of 2.8-3.0
per 1,500 UN paragraphs, and the whole pass over the 6,220 dev paragraphs took 25.8-26.5
instead of 28.2-30.1 CPU s, with the same terms and expectation marks for every
paragraph (docs/performance.md; tested on real paragraphs and comments). OpenBLAS would
use every core, and the embedding model runs beside spaCy on the other one, so the pass
runs under a one-thread BLAS limit (`one_blas_thread`); where the topic fit runs beside
spaCy (nlp/pipeline.py), the limit holds for the whole overlap, so that it never changes
while the fit's thread may be inside a BLAS call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def use_numpy_blas(nlp) -> int:
    """Switch the pipeline's models from BLIS to numpy's BLAS; returns how many layers
    changed (models on other ops, e.g. a GPU's or torch's, are left alone)."""
    from thinc.api import NumpyOps

    ops = None
    changed = 0
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if type(node.ops) is NumpyOps and node.ops.use_blis:
                ops = ops or NumpyOps(use_blis=False)
                node.ops = ops
                changed += 1
    return changed


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS limited to one thread for the block (then as it was)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; without it, BLAS as configured
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
