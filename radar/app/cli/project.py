"""Project commands: `radar init`, `radar status`, `radar export`."""

from __future__ import annotations

from pathlib import Path

import click

from radar.app.cli.common import config_option, friendly_errors, load
from radar.app.export import export_parquet
from radar.app.init_project import init_project
from radar.app.status import render_status, warehouse_status


@click.command()
@config_option
@friendly_errors
def init(config_path: Path) -> None:
    """Create radar.toml (commented defaults, never overwritten), the warehouse and the salt."""
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


@click.command()
@click.option("--errors", default=10, show_default=True, help="How many recent errors to show.")
@config_option
@friendly_errors
def status(errors: int, config_path: Path) -> None:
    """Documents per channel and source, the last crawl per source, recent errors."""
    cfg = load(config_path)
    render_status(warehouse_status(cfg.warehouse_path, errors=errors), cfg.warehouse_path)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@config_option
@friendly_errors
def export(fmt: str, out_dir: Path, config_path: Path) -> None:
    """Write every warehouse table to OUT_DIR as Parquet files."""
    cfg = load(config_path)
    for table, rows, target in export_parquet(cfg.warehouse_path, out_dir):
        click.echo(f"{table}: {rows} rows -> {target}")
