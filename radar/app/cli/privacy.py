"""Privacy commands: `radar forget` (erasure requests) and `radar salt` (where it is, rotate)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from radar.app.cli.common import config_option, fail, friendly_errors, load
from radar.app.erasure import ErasureError, erase, rotate_salt
from radar.core.privacy import SALT_ENV, salt_path


@click.command()
@click.option("--pseudonym", help="The person's pseudonym: 20 hex characters, as in <USER:...> "
                                  "or the author_hash column.")
@click.option("--url", help="The URL of one document to erase.")
@config_option
@friendly_errors
def forget(pseudonym: str | None, url: str | None, config_path: Path) -> None:
    """Erase a person's documents (by pseudonym or URL) with their passages, embeddings and
    quotes, recompute the aggregates, and log the erasure without the erased content."""
    cfg = load(config_path)
    try:
        done = erase(cfg, pseudonym=pseudonym, url=url)
    except ErasureError as exc:
        fail(str(exc))
    click.echo(f"erased {done.documents} documents and {done.passages} passages; cut "
               f"{done.quotes} quotes from {done.quoting_documents} other documents "
               "(their passages are derived again by the next `radar analyze`)")
    if not done.documents and not done.quoting_documents:
        click.echo("nothing matched: check the pseudonym or URL", err=True)


@click.command()
@click.option("--rotate", is_flag=True,
              help="Add a new key and re-pseudonymise every stored author, mention and quote.")
@config_option
@friendly_errors
def salt(rotate: bool, config_path: Path) -> None:
    """The pseudonymisation salt: where it is, and `--rotate` to re-pseudonymise with a new key."""
    cfg = load(config_path)
    if rotate:
        n = rotate_salt(cfg)
        click.echo(f"salt rotated: {n} author pseudonyms carried over; back up "
                   f"{salt_path(cfg.warehouse_path)} again")
    elif os.environ.get(SALT_ENV):
        click.echo(f"from the environment variable {SALT_ENV}")
    else:
        click.echo(str(salt_path(cfg.warehouse_path)))
