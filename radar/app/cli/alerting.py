"""Alert commands: `radar alert` and `radar subscriptions [add|set|pause|resume]`."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from radar.alerts import outbox, send_alerts
from radar.alerts.report import outbox_lines, subscription_lines, summary_lines
from radar.alerts.subscriptions import Subscription, SubscriptionError, add, change, list_subscriptions
from radar.app.cli.common import config_option, fail, friendly_errors, load, subcommand_config, writing
from radar.core.documents import utcnow


@click.command()
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
    cfg = load(config_path)
    if show_outbox:
        rows = outbox.recent(cfg.warehouse_path)
        click.echo("\n".join(outbox_lines(rows, outbox.counts(cfg.warehouse_path))))
        return
    with contextlib.ExitStack() as stack:
        if not dry_run:  # a dry run only reads
            stack.enter_context(writing(cfg, "radar alert"))
        if resend_id:
            try:
                was = outbox.resend(cfg.warehouse_path, resend_id, utcnow())
            except (KeyError, ValueError) as exc:
                fail(exc.args[0])
            click.echo(f"{resend_id} was {was}; queued again")
        summary = send_alerts(cfg, dry_run=dry_run, preview_dir=preview_dir)
    click.echo("\n".join(summary_lines(summary)))
    for err in summary.errors:
        click.echo(f"warning: {err}", err=True)
    if summary.failed or (summary.retry and not summary.sent):
        sys.exit(1)


@click.group(invoke_without_command=True)
@click.pass_context
@config_option
@friendly_errors
def subscriptions(ctx: click.Context, config_path: Path) -> None:
    """List subscriptions (radar.toml entries plus those added here); change them."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is None:
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


def _subscription_call(action, config_path: Path | None = None):
    try:
        if config_path is None:
            return action()
        with writing(load(config_path), "radar subscriptions"):
            return action()
    except SubscriptionError as exc:
        fail(str(exc))


@subscriptions.command("add")
@click.argument("email")
@_subscription_options
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), default="immediate",
              show_default=True)
@subcommand_config
@friendly_errors
def subscriptions_add(config_path: Path, email: str, areas, keywords, channels, min_ring,
                      score_threshold, frequency) -> None:
    """Subscribe EMAIL (kept in the warehouse; radar.toml is not edited)."""
    sub = Subscription(email=email, areas=list(areas), keywords=list(keywords),
                       channels=list(channels), min_ring=min_ring or "Prepare",
                       frequency=frequency, score_threshold=score_threshold)
    new_id = _subscription_call(lambda: add(load(config_path), sub), config_path)
    click.echo(f"added subscription #{new_id} for {sub.email} ({frequency})")


@subscriptions.command("set")
@click.argument("subscription_id", type=int)
@_subscription_options
@click.option("--all-areas", is_flag=True, help="Clear the area filter.")
@click.option("--any-keyword", is_flag=True, help="Clear the keyword filter.")
@click.option("--all-channels", is_flag=True, help="Clear the channel filter.")
@subcommand_config
@friendly_errors
def subscriptions_set(config_path: Path, subscription_id: int, areas, keywords, channels, min_ring,
                      score_threshold, all_areas, any_keyword, all_channels) -> None:
    """Change a subscription's filters (given options replace the old values)."""
    changes = {k: list(v) for k, v in
               (("areas", areas), ("keywords", keywords), ("channels", channels)) if v}
    changes.update({k: [] for k, flag in
                    (("areas", all_areas), ("keywords", any_keyword), ("channels", all_channels))
                    if flag})
    if min_ring:
        changes["min_ring"] = min_ring
    if score_threshold is not None:
        changes["score_threshold"] = score_threshold
    sub = _subscription_call(lambda: change(load(config_path), subscription_id, **changes),
                              config_path)
    click.echo(f"subscription #{subscription_id} for {sub.email} updated")


@subscriptions.command("pause")
@click.argument("subscription_id", type=int)
@subcommand_config
@friendly_errors
def subscriptions_pause(config_path: Path, subscription_id: int) -> None:
    """Stop sending to a subscription until it is resumed."""
    sub = _subscription_call(
        lambda: change(load(config_path), subscription_id, active=False), config_path)
    click.echo(f"subscription #{subscription_id} for {sub.email} paused")


@subscriptions.command("resume")
@click.argument("subscription_id", type=int)
@subcommand_config
@friendly_errors
def subscriptions_resume(config_path: Path, subscription_id: int) -> None:
    """Resume a paused subscription."""
    sub = _subscription_call(
        lambda: change(load(config_path), subscription_id, active=True), config_path)
    click.echo(f"subscription #{subscription_id} for {sub.email} resumed")
