"""Project commands: `radar init`, `radar status`, `radar export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from radar.app.cli.common import config_option, friendly_errors, load
from radar.app.export import analyst_copy, export_parquet
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
@click.option("--as-of", "as_of", default=None, metavar="WHEN",
              help="DuckLake backend: the warehouse and its radar as they were then (a date, "
                   "meaning the end of that day, or a UTC time such as '2026-11-01 14:30').")
@click.option("--check", is_flag=True,
              help="Also check that the ids the radar keeps unique without a key (documents, "
                   "passages, crawl state ...) are unique; exit 1 when one repeats.")
@config_option
@friendly_errors
def status(errors: int, as_of: str | None, check: bool, config_path: Path) -> None:
    """Documents per channel and source, the last crawl per source, recent errors."""
    cfg = load(config_path)
    found = warehouse_status(cfg.warehouse_path, errors=errors, as_of=as_of, check=check)
    render_status(found, cfg.warehouse_path)
    if not found.sound:
        sys.exit(1)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["parquet", "duckdb"]), default="parquet",
              show_default=True,
              help="parquet: one file per table in OUT; duckdb: OUT is a new read-only DuckDB file "
                   "(the analysts' warehouse).")
@click.option("--include-personal", is_flag=True,
              help="Admin only: export every table as stored, with subscribers' addresses, staff "
                   "names, pseudonyms and all citizen text. Logged in the privacy log.")
@click.argument("out", type=click.Path(path_type=Path))
@config_option
@friendly_errors
def export(fmt: str, include_personal: bool, out: Path, config_path: Path) -> None:
    """Write the warehouse for analysts (Parquet files or a DuckDB copy), without personal data."""
    cfg = load(config_path)
    k = cfg.scoring.min_authors
    if fmt == "duckdb":
        if include_personal:
            raise click.UsageError("--include-personal exports Parquet only; the analysts' "
                                   "DuckDB copy never holds personal data")
        for table, rows in analyst_copy(cfg.warehouse_path, out, k=k):
            click.echo(f"{table}: {rows} rows")
        click.echo(f"read-only analysts' warehouse: {out} (open with read_only=True)")
        return
    if include_personal:
        click.echo("exporting personal data (addresses, staff names, pseudonyms, all citizen "
                   "text); this export is logged", err=True)
    for table, rows, target in export_parquet(cfg.warehouse_path, out, k=k,
                                              include_personal=include_personal):
        click.echo(f"{table}: {rows} rows -> {target}")
