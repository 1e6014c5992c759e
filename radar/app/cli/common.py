"""What every command shares: logging, `--config`, friendly errors, loading the config."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from radar.core import backends, readcopy, warehouse
from radar.core.config import Config, ConfigError, load_config, resolve_config_path
from radar.core.locks import LOCKED_EXIT, WriterLocked, shared_writer_lock
from radar.core.privacy import SaltMissing, check_salt
from radar.core.warehouse import WarehouseError


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
            fail(str(exc))

    return wrapper


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextlib.contextmanager
def writing(cfg: Config, command: str) -> Iterator[None]:
    """Hold the warehouse's writer lock while a command writes; another holder means one
    clear line and exit 3. Runs a dead process left running are marked interrupted."""
    readcopy.configure(cfg.warehouse_path, cfg.warehouse.reader_copy_every)
    with contextlib.ExitStack() as stack:
        try:
            settled = stack.enter_context(warehouse.exclusive(cfg.warehouse_path, command))
        except WriterLocked as exc:
            fail(str(exc), LOCKED_EXIT)
        if settled:
            click.echo(f"note: marked interrupted (left running by a process that ended): "
                       f"{', '.join(settled)}; their work resumes now", err=True)
        yield


@contextlib.contextmanager
def writing_shared(cfg: Config, command: str) -> Iterator[None]:
    """`writing` for the processes of a distributed crawl on one machine: they hold the
    writer lock together (each batch is one short transaction); any other writing command
    still waits its turn (exit 3). The first of them settles runs left by dead ones.

    On DuckLake the processes may be on several machines: the locks are PostgreSQL's
    (`radar.core.lake_locks`), where a worker holds no stage alone and runs are settled
    only when no radar writer is alive anywhere."""
    path = cfg.warehouse_path
    if backends.lake_for(path) is not None:
        with writing(cfg, command):
            yield
        return
    readcopy.configure(path, cfg.warehouse.reader_copy_every)
    with contextlib.ExitStack() as stack:
        try:
            settled = stack.enter_context(shared_writer_lock(
                path, command, lambda: warehouse.settle_interrupted(path) if path.exists() else []))
        except WriterLocked as exc:
            fail(str(exc), LOCKED_EXIT)
        if settled:
            click.echo(f"note: marked interrupted (left running by a process that ended): "
                       f"{', '.join(settled)}; their work resumes now", err=True)
        stack.callback(readcopy.publish, path)
        yield


def load(config_path: Path, required: bool = True) -> Config:
    """Load the config for a command; refuses a salt that others can read (clear message)."""
    cfg = load_config(config_path, required=required)
    check_salt(cfg.warehouse_path)
    return cfg


def subcommand_config(func):
    """For a group's subcommands: `--config` after the subcommand, else the group's (ctx.obj)."""

    @click.option("--config", "sub_config", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="Config file (also accepted before the subcommand).")
    @click.pass_obj
    @functools.wraps(func)
    def wrapper(group_config, *args, sub_config=None, **kwargs):
        return func(resolve_config_path(sub_config) if sub_config else group_config, *args, **kwargs)

    return wrapper
