"""The analysis as the commands run it: the NLP stage, and the radar scored beside it.

Scoring reads only what the NLP stage's topic step leaves (passages, their topics and
documents), not what its refresh writes (series, labels, service areas). So once every
passage has its topic, the radar run is planned (read and computed, `plan_run`) in a
second thread while the NLP stage refreshes its labels and areas, which left one of the
two cores idle when the two ran one after the other. The run is stored (`store_run`)
after the refresh: a reader never sees a radar whose new topics have no label yet.
Same signals as `analyze` then `score` (tests/test_app_analysis.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nlp.costs import thread_cpu_seconds
from nlp.loaded import WarmModels
from nlp.pipeline import NlpSummary, analyze
from radar.core.config import Config
from radar.scoring.score import RunPlan, ScoreSummary, plan_run, store_run


def analyze_and_score(cfg: Config, progress: Callable | None = None, *, refit: bool = False,
                      warm: WarmModels | None = None, score_progress: Callable | None = None,
                      embedder=None, preprocessor=None) -> tuple[NlpSummary, ScoreSummary]:
    """`radar analyze`: the NLP stage, then the radar run planned beside its refresh and
    stored after it. The NLP summary's costs carry "scoring" (the planning thread's wall
    and CPU time) and "scoring write". `embedder`, `preprocessor`: as `nlp.pipeline.analyze`
    takes them (tests, benchmarks)."""
    planned: list[RunPlan | ScoreSummary] = []
    took: list[tuple[float, float]] = []

    def plan() -> None:
        w0, c0 = time.perf_counter(), thread_cpu_seconds()
        try:
            planned.append(plan_run(cfg))
        finally:
            took.append((time.perf_counter() - w0, thread_cpu_seconds() - c0))

    nlp = analyze(cfg, progress, refit=refit, warm=warm, beside=plan, embedder=embedder,
                  preprocessor=preprocessor)
    nlp.costs.add("scoring", *took[0])
    with nlp.costs.step("scoring write"):
        scored = store_run(cfg, planned[0], score_progress)
    return nlp, scored
