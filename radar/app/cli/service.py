"""Running the radar: `radar run`, `radar serve`, `radar dashboard`, `radar demo`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from dashboard.auth import hash_password as make_hash
from dashboard.launch import streamlit_command
from radar.app.cli.common import config_option, fail, friendly_errors, load
from radar.app.demo.demo import run_demo
from radar.app.pipeline import LOCKED_EXIT, PipelineLocked, run_pipeline
from radar.app.serve import serve as serve_forever
from radar.core.progress import Progress


@click.command()
@config_option
@friendly_errors
def run(config_path: Path) -> None:
    """Crawl, analyse and alert as one pipeline (never two at once). Exit 0: all succeeded;
    1: some part failed (see the summary); 2: nothing succeeded; 3: another run is going."""
    cfg = load(config_path)
    try:
        with Progress("radar run") as bar:
            summary = run_pipeline(cfg, progress=bar.update)
    except PipelineLocked as exc:
        fail(str(exc), LOCKED_EXIT)
    for line in summary.lines():
        click.echo(line)
    sys.exit(summary.exit_code)


@click.command()
@click.option("--no-dashboard", is_flag=True, help="Only run the schedule.")
@click.option("--port", type=int, default=None, help="Dashboard port (default: [dashboard] port).")
@config_option
@friendly_errors
def serve(no_dashboard: bool, port: int | None, config_path: Path) -> None:
    """Run `radar run` on the [schedule] cron and serve the dashboard; SIGTERM finishes the
    current run, then exits."""
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("radar").setLevel(logging.INFO)  # a service logs each run
    cfg = load(config_path)
    serve_forever(cfg, dashboard=not no_dashboard, port=port)


@click.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default: [dashboard] port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--hash-password", is_flag=True,
              help="Ask for a password and print its hash for [dashboard] password_hash.")
@config_option
@friendly_errors
def dashboard(port: int | None, host: str, hash_password: bool, config_path: Path) -> None:
    """Start the Streamlit dashboard (radar, topics, signals, triage, search, sources)."""
    if hash_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo(f'password_hash = "{make_hash(password)}"')
        return
    cfg = load(config_path)
    argv, env = streamlit_command(cfg, port=port, host=host)
    click.echo(f"dashboard on http://{host}:{port or cfg.dashboard.port} (Ctrl-C to stop)", err=True)
    os.execvpe(argv[0], argv, env)  # become Streamlit, so signals reach it directly


@click.command()
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
    try:
        result = run_demo(folder, dashboard=not no_dashboard, port=port, scale=scale,
                          echo=lambda line: click.echo(line, err=True), progress=Progress,
                          config_path=config_path)
    except PipelineLocked as exc:
        fail(str(exc), LOCKED_EXIT)
    took = sum(result.seconds.values())
    click.echo(f"demo ready in {result.folder} ({took:.0f}s): {result.documents} documents, "
               f"{result.topics} topics, {len(result.radar)} on the radar; "
               f"config {result.config_path}")
