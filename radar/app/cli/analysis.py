"""Analysis commands: `radar analyze` (NLP, with the radar scored beside its refresh) and `radar backtest`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from nlp.cluster import ClusterUnavailable
from nlp.embeddings import EmbeddingModelMissing
from nlp.pipeline import analyze as analyze_nlp
from nlp.preprocess import SpacyModelMissing
from radar.app.analysis import analyze_and_score
from radar.app.cli.common import config_option, fail, friendly_errors, load, writing
from radar.app.pipeline import decision_loop
from radar.app.plant import read_plants, run_plant
from radar.app.replay import backtest_replay, can_replay
from radar.core.progress import Progress
from radar.scoring.backtest import EventsFileError, read_events, render
from radar.scoring.backtest import backtest as run_backtest


@click.command()
@click.option("--refit", is_flag=True, help="Refit all topics now (ids are kept where topics persist).")
@click.option("--no-score", is_flag=True, help="Run only the NLP stage, not the radar scoring.")
@config_option
@friendly_errors
def analyze(refit: bool, no_score: bool, config_path: Path) -> None:
    """Find passages, embeddings, topics and their time series in new documents, then score the
    radar. An unchanged warehouse does almost nothing."""
    cfg = load(config_path)
    with writing(cfg, "radar analyze"):
        scored = None
        try:
            with Progress("analyzing") as bar:
                if no_score:
                    s = analyze_nlp(cfg, progress=bar.update, refit=refit)
                else:  # the radar is scored beside the NLP stage's refresh
                    s, scored = analyze_and_score(
                        cfg, bar.update, refit=refit,
                        score_progress=lambda done, total: bar.update(done, total, "scoring"))
        except (EmbeddingModelMissing, SpacyModelMissing, ClusterUnavailable) as exc:
            fail(str(exc))
        click.echo(
            f"{s.new_documents} new documents -> {s.new_passages} passages "
            f"({s.expectation_passages} voicing expectations); {s.embedded} embedded; "
            f"topics: {s.action}, {s.assigned} assigned, {s.outliers} outliers, "
            f"{s.new_topics} new, {s.topics} active"
        )
        if scored is None:
            return
    click.echo(f"radar run {getattr(scored, 'run_id', '?')}: {getattr(scored, 'signals', '?')} signals")
    click.echo(f"decision loop: {decision_loop(cfg).line()}")


@click.command()
@click.argument("events", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plant", "plants", type=click.Path(dir_okay=False, path_type=Path),
              help="Plant the synthetic trends in this CSV into a copy of the warehouse and "
                   "measure recall (phrases, onset, counts).")
@click.option("--assign", type=click.Choice(["auto", "nlp", "deterministic"]), default="auto",
              show_default=True, help="How planted documents get topics (auto: the NLP stage "
                                      "when installed).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the --plant or replay copy goes (default: a temporary folder, removed "
                   "after).")
@click.option("--topics", "topics_mode", type=click.Choice(["auto", "replay", "stored"]),
              default="auto", show_default=True,
              help="replay: discover topics period by period with data up to each period only "
                   "(no look-ahead; needs embedded passages); stored: the warehouse's topics "
                   "(fitted on the whole corpus); auto: replay when possible (with --plant: "
                   "when the NLP stage assigns the planted documents' topics).")
@click.option("-k", "k", type=int, default=None, help="k for precision@k (default: [scoring] top_k).")
@click.option("--tolerance", type=int, default=1, show_default=True,
              help="Periods after the onset a detection may come and still count.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("backtest.json"), show_default=True, help="Where to write the report.")
@config_option
@friendly_errors
def backtest(events: Path | None, plants: Path | None, assign: str, workdir: Path | None,
             topics_mode: str, k: int | None, tolerance: int, json_path: Path,
             config_path: Path) -> None:
    """Replay the periods with causal scoring: when would the radar have flagged each event in
    EVENTS.csv (keywords separated by |, onset)? Or, with --plant, how many planted trends?"""
    if (events is None) == (plants is None):
        raise click.UsageError("give an EVENTS.csv file or --plant PLANTS.csv (one of them)")
    cfg = load(config_path)
    try:
        if plants is not None:
            planted, bad = read_plants(plants)
            # The copy must not catch a writer half-way: hold the writer lock meanwhile.
            with writing(cfg, "radar backtest --plant"), \
                    tempfile.TemporaryDirectory(prefix="radar-plant-") as tmp:
                report = run_plant(cfg, planted, workdir or Path(tmp), assign=assign, k=k,
                                   tolerance=tolerance, topics=topics_mode)
                if workdir is None:
                    report.note += " (a temporary copy, now removed; keep one with --workdir)"
        else:
            evs, bad = read_events(events)
            if topics_mode == "auto":
                topics_mode = "replay" if can_replay(cfg) else "stored"
            if topics_mode == "replay":
                with tempfile.TemporaryDirectory(prefix="radar-replay-") as tmp:
                    report = backtest_replay(cfg, evs, workdir or Path(tmp), k=k, tolerance=tolerance)
            else:
                report = run_backtest(cfg, evs, k=k, tolerance=tolerance)
    except EventsFileError as exc:
        fail(str(exc))
    report.bad_rows = bad
    render(report)
    json_path.write_text(report.to_json(), encoding="utf-8")
    click.echo(f"report written to {json_path}")
