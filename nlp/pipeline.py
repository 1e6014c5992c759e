"""The NLP stage, `radar analyze`: passages -> spaCy -> embeddings -> topics -> time series.

Each step works only on what is new: documents without passages, passages
without an embedding, embedded passages without a topic. On an unchanged
warehouse `analyze` runs a few counting queries and returns without loading
any model. The topic step follows the identity policy in nlp/identity.py and
docs/nlp.md: first fit; then assign new passages to existing topics, discover
new topics among accumulated outliers, and refit everything when the corpus
has grown by `refit_growth` since the last fit (mapping old ids onto the new
clusters).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from nlp import tables
from nlp.catalogue import embed_catalogue
from nlp.costs import StepCosts, cpu_seconds, thread_cpu_seconds
from nlp.loaded import LazyEmbedder, WarmModels, default_preprocessor
from nlp.passages import is_part_of_page, split_document
from nlp.preprocess import embedding_text
from nlp.refresh import (
    area_update,
    label_update,
    sync_taxonomy,
    write_areas,
    write_labels,
    write_stats,
)
from nlp.spacy_blas import one_blas_thread
from nlp.topic_step import PreFit, TopicOutcome, fit_kind, fit_on, fit_sample, run_topic_step
from radar.core import warehouse
from radar.core.catalogue import sync_config as sync_catalogue
from radar.core.config import Config
from radar.core.progress import report

log = logging.getLogger(__name__)

DOC_BATCH = 2000          # documents per passage-writing transaction
EMBED_BATCH = 2048        # passages per embedding-writing transaction

Progress = Callable[..., None]


@dataclass
class NlpSummary:
    """What one NLP run did."""

    new_documents: int = 0
    new_passages: int = 0
    expectation_passages: int = 0
    embedded: int = 0
    action: str = "none"          # none | fit | refit | assign | discover | relabel
    assigned: int = 0
    outliers: int = 0
    new_topics: int = 0
    topics: int = 0
    model_version: str | None = None
    catalogue_embedded: int = 0   # services and watch items (re-)embedded
    seconds: dict[str, float] = field(default_factory=dict)
    costs: StepCosts = field(default_factory=StepCosts)  # wall, CPU, peak RSS per step


def release_freed_memory() -> None:
    """Hand memory freed by Python and the libraries back to the system (glibc keeps freed
    heap pages otherwise: ~600 -> ~310 MB resident after 1,200 dev paragraphs); no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def settings_hash(cfg: Config) -> str:
    """Changes when a setting that shapes labels, areas or time series changes."""
    a = cfg.analysis
    key = [a.period, sorted(a.stop_words), a.representative_passages, a.area_threshold,
           [(x.name, x.description) for x in cfg.areas], a.vector_model]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def make_passages(cfg: Config, preprocessor, progress: Progress | None = None,
                  costs: StepCosts | None = None, embedder: LazyEmbedder | None = None,
                  total: int | None = None, held: Held | None = None) -> tuple[int, int, int, int]:
    """Split, lemmatise, mark and (with `embedder`) embed new or changed documents.

    Returns (documents, passages, expectations, embedded). Per batch of DOC_BATCH
    documents, the embedding model runs in a second thread while spaCy runs in this one
    (ONNX Runtime and torch release the GIL), so the two costliest steps overlap on
    separate cores; passages and their vectors are written in one transaction. `total`:
    the pending documents when the caller has counted them. `held`: the last documents
    are only split and embedded, into `held`, for `finish_held` (not counted here).
    """
    costs = costs or StepCosts()
    a = cfg.analysis
    path = cfg.warehouse_path
    if total is None:
        total = tables.count_pending_documents(path)
    if total == 0:
        return 0, 0, 0, 0
    docs = passages = expectations = embedded = 0
    model = a.vector_model

    def embed(texts: list[str]):
        t0 = time.perf_counter()
        vectors = embedder().encode([embedding_text(t) for t in texts])
        return vectors, time.perf_counter() - t0

    seen = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        for batch in tables.pending_documents(path, DOC_BATCH):
            if held is not None:  # the last `held.documents` wait for `finish_held`
                keep = max(0, min(len(batch), total - held.documents - seen))
                seen += len(batch)
                held.batch += batch[keep:]
                batch = batch[:keep]
                if not batch:
                    continue
            with costs.step("passages"):
                rows, said = _split(batch, a)
            w0, c0, t0 = time.perf_counter(), cpu_seconds(), thread_cpu_seconds()
            pending = pool.submit(embed, [r["text"] for r in rows]) if embedder and rows else None
            found = preprocessor.process(said, [r["language"] for r in rows])
            spacy_wall, spacy_cpu = time.perf_counter() - w0, thread_cpu_seconds() - t0
            vectors, embed_wall = pending.result() if pending else (None, 0.0)
            both_cpu = cpu_seconds() - c0
            costs.add("spacy", spacy_wall, spacy_cpu)
            if pending:  # the rest of the process's CPU in that time: the model's threads
                costs.add("embedding", embed_wall, max(0.0, both_cpu - spacy_cpu))
            expectations += _write(path, model, batch, rows, found, vectors, costs)
            docs += len(batch)
            passages += len(rows)
            embedded += len(rows) if vectors is not None else 0
            report(progress, docs, total, "passages")
    if held is not None and held.batch:
        with costs.step("passages"):
            held.rows, held.said = _split(held.batch, a)
        if embedder and held.rows:  # on every core: spaCy waits for `finish_held`
            with costs.step("embedding"):
                held.vectors, _ = embed([r["text"] for r in held.rows])
    return docs, passages, expectations, embedded


@dataclass
class Held:
    """The last `documents` of a first analysis (or refit): split and embedded by
    `make_passages`, lemmatised and written by `finish_held` while the topic fit runs."""

    documents: int
    batch: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    said: list = field(default_factory=list)
    vectors: object = None


def _split(batch: list[tuple], a) -> tuple[list[dict], list[str]]:
    """The passage rows of a batch of pending documents, and what each passage says (a
    page's title is not said by its parts)."""
    rows, said = [], []
    for doc_id, title, text, language, text_hash, url in batch:
        part = is_part_of_page(url)
        for p in split_document(text, title, max_words=a.passage_max_words,
                                min_words=a.passage_min_words):
            rows.append({"passage_id": f"{doc_id}:{p.seq}", "doc_id": doc_id,
                         "seq": p.seq, "text": p.text, "n_words": p.n_words,
                         "language": language, "doc_content_hash": text_hash})
            said.append(p.body if part else p.text)
    return rows, said


def _write(path, model: str, batch: list[tuple], rows: list[dict], found: list, vectors,
           costs: StepCosts) -> int:
    """Passages with what spaCy found, and their vectors, in one transaction; returns how
    many voice an expectation."""
    with costs.step("passages"):
        for row, res in zip(rows, found, strict=True):
            row.update(language=res.language, terms=res.terms,
                       is_expectation=res.expectation is not None,
                       expectation_phrase=res.expectation.phrase if res.expectation else None)
    with costs.step("passages write"):
        tables.write_passages(path, rows, [b[0] for b in batch], vectors=vectors, model=model)
    return sum(r["is_expectation"] for r in rows)


def finish_held(cfg: Config, preprocessor, held: Held, costs: StepCosts) -> tuple[int, int, int, int]:
    """spaCy over the held passages, then their rows and vectors written; the counts as
    `make_passages` returns them."""
    if not held.batch:
        return 0, 0, 0, 0
    t0 = thread_cpu_seconds()
    w0 = time.perf_counter()
    found = preprocessor.process(held.said, [r["language"] for r in held.rows]) if held.rows else []
    costs.add("spacy", time.perf_counter() - w0, thread_cpu_seconds() - t0)
    n = len(held.rows)
    expectations = _write(cfg.warehouse_path, cfg.analysis.vector_model, held.batch, held.rows,
                          found, held.vectors, costs)
    return len(held.batch), n, expectations, n if held.vectors is not None else 0


def embed_passages(cfg: Config, embedder: LazyEmbedder, progress: Progress | None = None,
                   costs: StepCosts | None = None) -> int:
    """Embed every passage not yet embedded with the configured model; returns how many."""
    costs = costs or StepCosts()
    path = cfg.warehouse_path
    model = cfg.analysis.vector_model
    total = tables.count_unembedded(path, model)
    if total == 0:
        return 0
    done = 0
    for ids, texts in tables.unembedded(path, model, EMBED_BATCH):
        with costs.step("embedding"):
            vectors = embedder().encode([embedding_text(t) for t in texts])
        with costs.step("embedding write"):
            tables.write_embeddings(path, ids, vectors, model)
        done += len(ids)
        report(progress, done, total, "embedding")
    return done


def analyze(cfg: Config, progress: Progress | None = None, *, refit: bool = False,
            embedder=None, preprocessor=None, warm: WarmModels | None = None,
            beside: Callable[[], object] | None = None) -> NlpSummary:
    """Run the NLP stage on what is new in the warehouse; `refit` forces a full refit.

    `embedder` and `preprocessor` replace the configured ones (used by the
    benchmark and tests to load models once); `warm`, instead, supplies the configured
    ones and keeps them loaded for the next run of this process (`radar serve`;
    nlp/loaded.py); `progress(done, total=, description=)`.
    `beside`: another stage's work that needs only the passages and their topics (the app
    plans the radar run there, radar/app/analysis.py), run once per call: in a second
    thread while this stage refreshes its labels and areas, or after the topic step when
    there is nothing to refresh; its error is raised after this stage's own work.
    `summary.costs` holds each step's wall time, CPU time and peak memory.
    """
    if warm is None:
        return _analyze(cfg, progress, refit, LazyEmbedder(cfg, embedder), preprocessor, beside)
    preprocessor, lazy = warm.models(cfg)
    try:
        return _analyze(cfg, progress, refit, lazy, preprocessor, beside)
    finally:
        warm.settle()


@contextmanager
def running_beside(work: Callable[[], object] | None) -> Iterator[None]:
    """`work()` in a second thread while the block runs. The block's error wins (after the
    thread has ended: no thread is left reading the warehouse); else work's is raised."""
    if work is None:
        yield
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside") as pool:
        future = pool.submit(work)
        try:
            yield
        except BaseException:
            if future.exception() is not None:
                log.error("analysis: the work run beside the refresh failed too: %s",
                          future.exception())
            raise
        future.result()


def _analyze(cfg: Config, progress: Progress | None, refit: bool, lazy: LazyEmbedder,
             preprocessor, beside: Callable[[], object] | None = None) -> NlpSummary:
    path = cfg.warehouse_path
    if not warehouse.exists(path):
        raise warehouse.WarehouseMissing(f"{path}: no warehouse here yet; run `radar init` first")
    summary = NlpSummary()
    costs = summary.costs
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    pending = tables.count_pending_documents(path)
    prefit = None
    if pending:
        pre = preprocessor or default_preprocessor(cfg)
        hold = held_documents(cfg, pending, refit)
        held = Held(hold) if hold else None  # None: an incremental run, spaCy beside the model
        (summary.new_documents, summary.new_passages, summary.expectation_passages,
         summary.embedded) = make_passages(cfg, pre, progress, costs, embedder=lazy, total=pending,
                                           held=held)
        if held is not None:
            # BLAS on one thread for the whole overlap (spaCy's pass would otherwise switch
            # it while the fit thread may be inside a BLAS call; nlp/spacy_blas.py).
            with one_blas_thread(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="fit") as pool:
                fitting = start_fit_beside(cfg, held, refit, pool)
                counts = finish_held(cfg, pre, held, costs)
                if fitting is not None:
                    prefit, fit_wall, fit_cpu = fitting.result()
                    costs.add("topics", fit_wall, fit_cpu)
            summary.new_documents += counts[0]
            summary.new_passages += counts[1]
            summary.expectation_passages += counts[2]
            summary.embedded += counts[3]
        save_tables = getattr(pre, "save_tables", None)
        if save_tables is not None:  # the token types met, for the next run (nlp/lemma_table.py)
            save_tables()
        release_freed_memory()  # spaCy's and the model's working memory
    summary.seconds["passages"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # Passages made above are embedded already; this catches the rest (a changed model,
    # passages written by other tools).
    summary.embedded += embed_passages(cfg, lazy, progress, costs)
    summary.seconds["embedding"] = time.perf_counter() - t0
    # The service catalogue and watch list (docs/decisions.md): synced from radar.toml and
    # embedded when new or changed, with the same (lazily loaded) model.
    sync_catalogue(path, cfg)
    summary.catalogue_embedded = embed_catalogue(cfg, lazy)
    t0 = time.perf_counter()
    with costs.step("topics"):
        outcome: TopicOutcome = run_topic_step(cfg, force_refit=refit, progress=progress,
                                               prefit=prefit)
    summary.seconds["topics"] = time.perf_counter() - t0
    summary.action, summary.model_version = outcome.action, outcome.version
    summary.assigned, summary.outliers, summary.new_topics = (outcome.assigned, outcome.outliers,
                                                              len(outcome.new_topics))
    settings = settings_hash(cfg)
    changed = outcome.action != "none" or summary.new_passages > 0
    if not changed and outcome.last_settings == settings:
        summary.topics = outcome.active_topics
        if beside is not None:
            beside()
        return summary  # nothing new: no model loaded, nothing written
    t0 = time.perf_counter()
    a = cfg.analysis
    with running_beside(beside):
        # Labels and areas are worked out on reads, which run beside `beside`'s; they are
        # written with the sizes, time series and the run's row in one transaction, once
        # (a write waits for every reader).
        with costs.step("labels"):
            labels = label_update(path, a.stop_words, a.period)
        with costs.step("areas"):
            taxonomy_changed = sync_taxonomy(path, cfg, lazy)
            everything = (taxonomy_changed or outcome.last_settings != settings
                          or outcome.action in ("fit", "refit"))
            areas = area_update(path, a.area_threshold, lazy,
                                only=None if everything else labels.changed, top_terms=labels.terms)
        if summary.action == "none":
            summary.action = "relabel"
        with warehouse.write(path) as con:
            with costs.step("series"):
                write_stats(con, a.period, a.representative_passages,
                            reset_first_seen=outcome.last_period not in (None, a.period))
            write_labels(con, labels)
            if areas is not None:
                write_areas(con, areas)
            summary.seconds["refresh"] = time.perf_counter() - t0
            _record_run(con, started, summary, a.period, settings)
    return summary


def held_documents(cfg: Config, pending: int, refit: bool) -> int:
    """How many of the pending documents to lemmatise beside the topic fit: none unless this
    run will fit (a first analysis, or a refit), else a third of them, at most a third of
    the fit's sample (spaCy takes about as long on that many as the fit on its sample)."""
    a = cfg.analysis
    state = tables.load_topic_state(cfg.warehouse_path, a.vector_model)
    if fit_kind(state, a, state.embedded + pending, refit) is None:
        return 0
    return min(pending // 3, a.max_fit_passages // 3)


def start_fit_beside(cfg: Config, held: Held, refit: bool, pool: ThreadPoolExecutor):
    """The topic fit of the written passages and the held ones, started in `pool` (UMAP's
    compiled code releases the GIL, nlp/topics.py) while this thread runs spaCy; a future of
    (PreFit, wall, CPU seconds), or None when this run will not fit. The topic step uses it
    only if its own sample, read after the held passages are written, is the same."""
    if held.vectors is None or not held.rows:
        return None
    a = cfg.analysis
    state = tables.load_topic_state(cfg.warehouse_path, a.vector_model)
    if fit_kind(state, a, state.embedded + len(held.rows), refit) is None:
        return None
    written = tables.load_corpus(cfg.warehouse_path, a.vector_model)
    n = len(written.ids)
    ids = np.concatenate([written.ids, np.array([r["passage_id"] for r in held.rows], dtype=object)])
    order = np.argsort(ids, kind="stable")  # as the topic step will read them: by passage id
    sample = order[fit_sample(len(ids), a.max_fit_passages)]
    fresh = np.asarray(held.vectors, dtype=np.float32)
    # Only the sample's vectors are kept for the fit (not a copy of the whole corpus).
    vectors = np.empty((len(sample), fresh.shape[1]), dtype=np.float32)
    old = sample < n
    vectors[old] = written.vectors.reshape(n, fresh.shape[1])[sample[old]]
    vectors[~old] = fresh[sample[~old] - n]
    sample_ids = ids[sample]
    del written, ids, fresh

    def fit() -> tuple[PreFit, float, float]:
        w0, c0 = time.perf_counter(), thread_cpu_seconds()
        result = PreFit(sample_ids, fit_on(vectors, a))
        return result, time.perf_counter() - w0, thread_cpu_seconds() - c0

    return pool.submit(fit)


def _record_run(con, started: datetime, s: NlpSummary, period: str, settings: str) -> None:
    """The run's row in nlp_runs, on a write connection; also counts the active topics into
    `s.topics`."""
    s.topics = con.execute("SELECT count(*) FROM topics WHERE active").fetchone()[0]
    con.execute(
        "INSERT INTO nlp_runs (run_id, started_at, finished_at, action, new_passages, embedded, "
        "assigned, new_topics, model_version, period, settings_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [warehouse.next_id(con, "nlp_run_seq"), started, datetime.now(UTC).replace(tzinfo=None),
         s.action, s.new_passages, s.embedded,
         s.assigned, s.new_topics, s.model_version, period, settings])
