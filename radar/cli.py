"""The `radar` command: a thin layer that wires the stages' library functions.

Each command parses its options, calls one library function and renders the
result. Heavy stages (Scrapy, spaCy, BERTopic, Streamlit) are imported inside
their command, so `radar --help` and `radar status` start fast.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

import click

from radar.config import Config, ConfigError, load_config, resolve_config_path
from radar.privacy import SaltMissing
from radar.warehouse import WarehouseError

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
    from radar.setup import init_project

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
    from radar.importer import ImportFileError, import_file
    from radar.progress import Progress

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
    from radar.render import render_status
    from radar.status import warehouse_status

    cfg = load(config_path)
    render_status(warehouse_status(cfg.warehouse_path, errors=errors), cfg.warehouse_path)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@config_option
@friendly_errors
def export(fmt: str, out_dir: Path, config_path: Path) -> None:
    """Write every warehouse table to OUT_DIR as Parquet files."""
    from radar.export import export_parquet

    cfg = load(config_path)
    for table, rows, target in export_parquet(cfg.warehouse_path, out_dir):
        click.echo(f"{table}: {rows} rows -> {target}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="radar")


if __name__ == "__main__":
    main()
