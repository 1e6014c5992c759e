"""The `radar` command: a thin layer that wires the stages' library functions.

Each command parses its options, calls one library function and renders the
result. Heavy stages (Scrapy, spaCy, BERTopic, Streamlit) are imported inside
their command, so `radar --help` and `radar status` start fast.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

import click

from radar.core.config import Config, ConfigError, load_config, resolve_config_path
from radar.core.privacy import SaltMissing
from radar.core.warehouse import WarehouseError

log = logging.getLogger("radar")


def setup_logging(level: str) -> None:
    """Logs go to stderr with their level; progress bars also draw on stderr."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def config_option(func):
    """`--config PATH` on every command (default ./radar.toml, or $RADAR_CONFIG)."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: $RADAR_CONFIG or ./radar.toml).",
    )
    @functools.wraps(func)
    def wrapper(*args, config_path: Path | None = None, **kwargs):
        return func(*args, config_path=resolve_config_path(config_path), **kwargs)

    return wrapper


def friendly_errors(func):
    """Known failures become one clear line on stderr and a non-zero exit, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ConfigError, WarehouseError, SaltMissing) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def load(config_path: Path, required: bool = True) -> Config:
    """Load the config for a command."""
    return load_config(config_path, required=required)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
@click.version_option(package_name="horizon-radar")
def cli(log_level: str) -> None:
    """Horizon Radar: watch the outside world and see early what is rising."""
    setup_logging(log_level)


@cli.command()
@config_option
@friendly_errors
def init(config_path: Path) -> None:
    """Create radar.toml (commented defaults, never overwritten), the warehouse and the salt."""
    from radar.app.init_project import init_project

    result = init_project(config_path)
    if result.config_created:
        click.echo(f"wrote {result.config_path} (commented defaults; edit it to add sources)")
    else:
        click.echo(f"kept existing {result.config_path}")
    click.echo(f"warehouse {result.warehouse_path} at schema version {result.schema_version}")
    if result.salt_path:
        click.echo(f"pseudonymisation salt in {result.salt_path} (owner-only; back it up)")
    else:
        click.echo("pseudonymisation salt from RADAR_PSEUDONYM_SALT")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", help="Source name for every row (overrides the file's column).")
@click.option(
    "--channel",
    type=click.Choice(["news", "policy", "citizen"]),
    help="Channel for every row (overrides the file's column).",
)
@config_option
@friendly_errors
def import_(file: Path, source: str | None, channel: str | None, config_path: Path) -> None:
    """Load documents from JSON Lines, CSV or Parquet (url, title, text, published_at, source,
    channel, author). Re-importing adds nothing; bad rows are reported and skipped."""
    from crawlers.importer import ImportFileError, import_file
    from radar.core.progress import Progress

    cfg = load(config_path)
    try:
        with Progress(f"importing {file.name}") as bar:
            result = import_file(file, cfg.warehouse_path, source=source, channel=channel,
                                 progress=bar.update)
    except ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for bad in result.bad_rows[:50]:
        click.echo(f"{file}:{bad.line}: skipped: {bad.reason}", err=True)
    if len(result.bad_rows) > 50:
        click.echo(f"... and {len(result.bad_rows) - 50} more bad rows (see fetch_errors)", err=True)
    click.echo(
        f"{result.rows} rows read, {result.new_documents} new documents, "
        f"{result.skipped_existing} already present, {len(result.bad_rows)} bad rows"
    )


@cli.command()
@click.option("--errors", default=10, show_default=True, help="How many recent errors to show.")
@config_option
@friendly_errors
def status(errors: int, config_path: Path) -> None:
    """Documents per channel and source, the last crawl per source, recent errors."""
    from radar.app.status import render_status, warehouse_status

    cfg = load(config_path)
    render_status(warehouse_status(cfg.warehouse_path, errors=errors), cfg.warehouse_path)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@config_option
@friendly_errors
def export(fmt: str, out_dir: Path, config_path: Path) -> None:
    """Write every warehouse table to OUT_DIR as Parquet files."""
    from radar.app.export import export_parquet

    cfg = load(config_path)
    for table, rows, target in export_parquet(cfg.warehouse_path, out_dir):
        click.echo(f"{table}: {rows} rows -> {target}")


@cli.command()
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Crawl only this source (repeatable; default: every [[sources]] entry).")
@config_option
@friendly_errors
def crawl(sources: tuple[str, ...], config_path: Path) -> None:
    """Fetch new and changed documents from the configured sources into the warehouse.
    Exit 0 unless every source failed (then 1); failures are in `radar status`."""
    from rich.console import Console
    from rich.table import Table

    from crawlers.run import crawl_sources
    from radar.core.progress import Progress

    cfg = load(config_path)
    if not cfg.sources:
        click.echo(f"no [[sources]] in {config_path}; add some (see the examples in it)", err=True)
        sys.exit(2)
    with Progress("crawling") as bar:
        summaries = crawl_sources(cfg, list(sources) or None, progress=bar.update)
    table = Table(title="crawl summary")
    table.add_column("source", no_wrap=True)
    for name in ("status", "pages", "new", "updated", "copies", "errors"):
        table.add_column(name, justify="left" if name == "status" else "right")
    table.add_column("note", overflow="fold")
    for s in summaries:
        table.add_row(s.source, s.status, str(s.pages), str(s.new_documents), str(s.updated),
                      str(s.carried), str(s.errors), s.message[:120])
    # Piped output (logs, cron mail) gets full lines rather than an 80-column wrap.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    click.echo(f"{sum(s.new_documents for s in summaries)} new documents, "
               f"{sum(s.errors for s in summaries)} errors (details: radar status)")
    if summaries and all(s.status == "failed" for s in summaries):
        sys.exit(1)


@cli.command()
@click.option("--refit", is_flag=True, help="Refit all topics now (ids are kept where topics persist).")
@click.option("--no-score", is_flag=True, help="Run only the NLP stage, not the radar scoring.")
@config_option
@friendly_errors
def analyze(refit: bool, no_score: bool, config_path: Path) -> None:
    """Find passages, embeddings, topics and their time series in new documents, then score the
    radar. An unchanged warehouse does almost nothing."""
    import importlib.util

    from nlp.embeddings import EmbeddingModelMissing
    from nlp.pipeline import analyze as analyze_nlp
    from nlp.preprocess import SpacyModelMissing
    from radar.core.progress import Progress

    cfg = load(config_path)
    try:
        with Progress("analyzing") as bar:
            s = analyze_nlp(cfg, progress=bar.update, refit=refit)
    except (EmbeddingModelMissing, SpacyModelMissing) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(
        f"{s.new_documents} new documents -> {s.new_passages} passages "
        f"({s.expectation_passages} voicing expectations); {s.embedded} embedded; "
        f"topics: {s.action}, {s.assigned} assigned, {s.outliers} outliers, "
        f"{s.new_topics} new, {s.topics} active"
    )
    if no_score:
        return
    # The scoring stage is its own module; without it the NLP results still stand.
    if importlib.util.find_spec("radar.scoring.score") is None:
        click.echo("radar scoring is not installed (radar.scoring.score); topics analysed, radar not scored",
                   err=True)
        return
    from radar.scoring.score import score

    with Progress("scoring") as bar:
        scored = score(cfg, progress=bar.update)
    click.echo(f"radar run {getattr(scored, 'run_id', '?')}: {getattr(scored, 'signals', '?')} signals")


@cli.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default: [dashboard] port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--hash-password", is_flag=True,
              help="Ask for a password and print its hash for [dashboard] password_hash.")
@config_option
@friendly_errors
def dashboard(port: int | None, host: str, hash_password: bool, config_path: Path) -> None:
    """Start the Streamlit dashboard (radar, topics, signals, triage, search, sources)."""
    if hash_password:
        from dashboard.auth import hash_password as make_hash

        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo(f'password_hash = "{make_hash(password)}"')
        return
    from dashboard.launch import streamlit_command

    cfg = load(config_path)
    argv, env = streamlit_command(cfg, port=port, host=host)
    click.echo(f"dashboard on http://{host}:{port or cfg.dashboard.port} (Ctrl-C to stop)", err=True)
    os.execvpe(argv[0], argv, env)  # become Streamlit, so signals reach it directly


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would be sent to whom; write and send nothing.")
@click.option("--preview", "preview_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write each message's text, HTML and .eml to DIR instead of sending.")
@click.option("--outbox", "show_outbox", is_flag=True, help="List recent messages and their state.")
@click.option("--resend", "resend_id", metavar="MESSAGE_ID",
              help="Queue a failed or delivery-unknown message again, then run.")
@config_option
@friendly_errors
def alert(dry_run: bool, preview_dir: Path | None, show_outbox: bool, resend_id: str | None,
          config_path: Path) -> None:
    """E-mail subscribers the topics that entered the radar or moved closer (exactly once)."""
    from radar.alerts import outbox, send_alerts
    from radar.alerts.report import outbox_lines, summary_lines
    from radar.core.documents import utcnow

    cfg = load(config_path)
    if show_outbox:
        rows = outbox.recent(cfg.warehouse_path)
        click.echo("\n".join(outbox_lines(rows, outbox.counts(cfg.warehouse_path))))
        return
    if resend_id:
        try:
            was = outbox.resend(cfg.warehouse_path, resend_id, utcnow())
        except (KeyError, ValueError) as exc:
            click.echo(f"error: {exc.args[0]}", err=True)
            sys.exit(2)
        click.echo(f"{resend_id} was {was}; queued again")
    summary = send_alerts(cfg, dry_run=dry_run, preview_dir=preview_dir)
    click.echo("\n".join(summary_lines(summary)))
    for err in summary.errors:
        click.echo(f"warning: {err}", err=True)
    if summary.failed or (summary.retry and not summary.sent):
        sys.exit(1)


@cli.group(invoke_without_command=True)
@click.pass_context
@config_option
@friendly_errors
def subscriptions(ctx: click.Context, config_path: Path) -> None:
    """List subscriptions (radar.toml entries plus those added here); change them."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is None:
        from radar.alerts.report import subscription_lines
        from radar.alerts.subscriptions import list_subscriptions

        click.echo("\n".join(subscription_lines(list_subscriptions(load(config_path)))))


def _subscription_options(func):
    for opt in reversed([
        click.option("--area", "areas", multiple=True, help="A service area (repeatable; none = all)."),
        click.option("--keyword", "keywords", multiple=True, help="A keyword (repeatable; none = any)."),
        click.option("--channel", "channels", multiple=True,
                     type=click.Choice(["news", "policy", "citizen"]), help="A channel (repeatable)."),
        click.option("--min-ring", type=click.Choice(["Act", "Prepare", "Watch", "Monitor"])),
        click.option("--threshold", "score_threshold", type=float, help="Also alert above this score."),
    ]):
        func = opt(func)
    return func


def _group_config(func):
    """Pass the config path: `--config` after the subcommand, else the group's."""

    @click.option("--config", "sub_config", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="Config file (also accepted before the subcommand).")
    @click.pass_obj
    @functools.wraps(func)
    def wrapper(group_config, *args, sub_config=None, **kwargs):
        return func(resolve_config_path(sub_config) if sub_config else group_config, *args, **kwargs)

    return wrapper


def _subscription_call(action):
    from radar.alerts.subscriptions import SubscriptionError

    try:
        return action()
    except SubscriptionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@subscriptions.command("add")
@click.argument("email")
@_subscription_options
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), default="immediate",
              show_default=True)
@_group_config
@friendly_errors
def subscriptions_add(config_path: Path, email: str, areas, keywords, channels, min_ring,
                      score_threshold, frequency) -> None:
    """Subscribe EMAIL (kept in the warehouse; radar.toml is not edited)."""
    from radar.alerts.subscriptions import Subscription, add

    sub = Subscription(email=email, areas=list(areas), keywords=list(keywords),
                       channels=list(channels), min_ring=min_ring or "Prepare",
                       frequency=frequency, score_threshold=score_threshold)
    new_id = _subscription_call(lambda: add(load(config_path), sub))
    click.echo(f"added subscription #{new_id} for {sub.email} ({frequency})")


@subscriptions.command("set")
@click.argument("subscription_id", type=int)
@_subscription_options
@click.option("--all-areas", is_flag=True, help="Clear the area filter.")
@click.option("--any-keyword", is_flag=True, help="Clear the keyword filter.")
@click.option("--all-channels", is_flag=True, help="Clear the channel filter.")
@_group_config
@friendly_errors
def subscriptions_set(config_path: Path, subscription_id: int, areas, keywords, channels, min_ring,
                      score_threshold, all_areas, any_keyword, all_channels) -> None:
    """Change a subscription's filters (given options replace the old values)."""
    from radar.alerts.subscriptions import change

    changes = {k: list(v) for k, v in
               (("areas", areas), ("keywords", keywords), ("channels", channels)) if v}
    changes.update({k: [] for k, flag in
                    (("areas", all_areas), ("keywords", any_keyword), ("channels", all_channels))
                    if flag})
    if min_ring:
        changes["min_ring"] = min_ring
    if score_threshold is not None:
        changes["score_threshold"] = score_threshold
    sub = _subscription_call(lambda: change(load(config_path), subscription_id, **changes))
    click.echo(f"subscription #{subscription_id} for {sub.email} updated")


@subscriptions.command("pause")
@click.argument("subscription_id", type=int)
@_group_config
@friendly_errors
def subscriptions_pause(config_path: Path, subscription_id: int) -> None:
    """Stop sending to a subscription until it is resumed."""
    from radar.alerts.subscriptions import change

    sub = _subscription_call(lambda: change(load(config_path), subscription_id, active=False))
    click.echo(f"subscription #{subscription_id} for {sub.email} paused")


@subscriptions.command("resume")
@click.argument("subscription_id", type=int)
@_group_config
@friendly_errors
def subscriptions_resume(config_path: Path, subscription_id: int) -> None:
    """Resume a paused subscription."""
    from radar.alerts.subscriptions import change

    sub = _subscription_call(lambda: change(load(config_path), subscription_id, active=True))
    click.echo(f"subscription #{subscription_id} for {sub.email} resumed")


@cli.command()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default="radar-demo",
              show_default=True, help="Where the demo's config and warehouse live.")
@click.option("--no-dashboard", is_flag=True, help="Build the demo warehouse and exit.")
@click.option("--port", type=int, default=8501, show_default=True, help="Dashboard port.")
@click.option("--scale", type=float, default=1.0, show_default=True, hidden=True,
              help="Corpus size factor (tests use a small one).")
# Not @config_option: the demo writes its own config, and must never default to (and
# rewrite) the user's ./radar.toml or $RADAR_CONFIG.
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where the demo writes its config (default: FOLDER/radar.toml).")
@friendly_errors
def demo(folder: Path, no_dashboard: bool, port: int, scale: float, config_path: Path | None) -> None:
    """Build a demo radar offline: a local news/policy/forum web, crawled and analysed, then
    the dashboard. A second run reuses what exists."""
    from radar.app.demo.demo import run_demo
    from radar.app.pipeline import LOCKED_EXIT, PipelineLocked
    from radar.core.progress import Progress

    try:
        result = run_demo(folder, dashboard=not no_dashboard, port=port, scale=scale,
                          echo=lambda line: click.echo(line, err=True), progress=Progress,
                          config_path=config_path)
    except PipelineLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(LOCKED_EXIT)
    took = sum(result.seconds.values())
    click.echo(f"demo ready in {result.folder} ({took:.0f}s): {result.documents} documents, "
               f"{result.topics} topics, {len(result.radar)} on the radar; "
               f"config {result.config_path}")


@cli.command()
@config_option
@friendly_errors
def run(config_path: Path) -> None:
    """Crawl, analyse and alert as one pipeline (never two at once). Exit 0: all succeeded;
    1: some part failed (see the summary); 2: nothing succeeded; 3: another run is going."""
    from radar.app.pipeline import LOCKED_EXIT, PipelineLocked, run_pipeline
    from radar.core.progress import Progress

    cfg = load(config_path)
    try:
        with Progress("radar run") as bar:
            summary = run_pipeline(cfg, progress=bar.update)
    except PipelineLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(LOCKED_EXIT)
    for line in summary.lines():
        click.echo(line)
    sys.exit(summary.exit_code)


@cli.command()
@click.option("--no-dashboard", is_flag=True, help="Only run the schedule.")
@click.option("--port", type=int, default=None, help="Dashboard port (default: [dashboard] port).")
@config_option
@friendly_errors
def serve(no_dashboard: bool, port: int | None, config_path: Path) -> None:
    """Run `radar run` on the [schedule] cron and serve the dashboard; SIGTERM finishes the
    current run, then exits."""
    from radar.app.serve import serve as serve_forever

    if logging.getLogger().level > logging.INFO:
        logging.getLogger("radar").setLevel(logging.INFO)  # a service logs each run
    cfg = load(config_path)
    serve_forever(cfg, dashboard=not no_dashboard, port=port)


@cli.command()
@click.argument("events", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plant", "plants", type=click.Path(dir_okay=False, path_type=Path),
              help="Plant the synthetic trends in this CSV into a copy of the warehouse and "
                   "measure recall (phrases, onset, counts).")
@click.option("--assign", type=click.Choice(["auto", "nlp", "deterministic"]), default="auto",
              show_default=True, help="How planted documents get topics (auto: the NLP stage "
                                      "when installed).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the --plant copy goes (default: a temporary folder, removed after).")
@click.option("-k", "k", type=int, default=None, help="k for precision@k (default: [scoring] top_k).")
@click.option("--tolerance", type=int, default=1, show_default=True,
              help="Periods after the onset a detection may come and still count.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("backtest.json"), show_default=True, help="Where to write the report.")
@config_option
@friendly_errors
def backtest(events: Path | None, plants: Path | None, assign: str, workdir: Path | None,
             k: int | None, tolerance: int, json_path: Path, config_path: Path) -> None:
    """Replay the periods with causal scoring: when would the radar have flagged each event in
    EVENTS.csv (keywords separated by |, onset)? Or, with --plant, how many planted trends?"""
    import tempfile

    from radar.scoring.backtest import EventsFileError, read_events, render
    from radar.scoring.backtest import backtest as run_backtest

    if (events is None) == (plants is None):
        raise click.UsageError("give an EVENTS.csv file or --plant PLANTS.csv (one of them)")
    cfg = load(config_path)
    try:
        if plants is not None:
            from radar.app.plant import read_plants, run_plant

            planted, bad = read_plants(plants)
            with tempfile.TemporaryDirectory(prefix="radar-plant-") as tmp:
                report = run_plant(cfg, planted, workdir or Path(tmp), assign=assign, k=k,
                                   tolerance=tolerance)
                if workdir is None:
                    report.note += " (a temporary copy, now removed; keep one with --workdir)"
        else:
            evs, bad = read_events(events)
            report = run_backtest(cfg, evs, k=k, tolerance=tolerance)
    except EventsFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    report.bad_rows = bad
    render(report)
    json_path.write_text(report.to_json(), encoding="utf-8")
    click.echo(f"report written to {json_path}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="radar")


if __name__ == "__main__":
    main()
