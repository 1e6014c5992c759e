"""Alert results and subscriptions as lines of text for the command line."""

from __future__ import annotations

from radar.alerts import AlertSummary
from radar.alerts.subscriptions import Subscription


def summary_lines(s: AlertSummary) -> list[str]:
    """What `radar alert` prints."""
    lines = []
    verb = "would send" if s.dry_run else "queued"
    run = f"radar run {s.run_id}" if s.run_id is not None else "no radar run"
    lines.append(f"{run}: {s.subscriptions} active subscription(s), {s.due} due, "
                 f"{len(s.messages)} message(s) {verb}")
    for m in s.messages:
        lines.append(f"  to {m.recipient} ({m.kind}): {m.subject}")
        lines += [f"    - {label}" for label in m.topics]
        lines += [f"    preview: {p}" for p in m.preview]
    if s.dry_run:
        lines.append(f"dry run: nothing written or sent; {s.queued} message(s) would be tried")
    else:
        lines.append(f"delivered {s.sent}, to retry {s.retry}, failed {s.failed}, "
                     f"delivery unknown {s.unknown}; {s.queued} waiting in the outbox")
        if s.requeued:
            lines.append(f"{s.requeued} interrupted message(s) requeued (never reached the server)")
    return lines


def subscription_lines(subs: list[Subscription]) -> list[str]:
    """What `radar subscriptions list` prints."""
    if not subs:
        return ["no subscriptions: add [[subscriptions]] to radar.toml or `radar subscriptions add`"]
    lines = []
    for s in subs:
        state = "active" if s.active else "paused"
        bits = [f"#{s.subscription_id}", s.email, s.frequency, f"{s.min_ring}+", state,
                f"from {s.origin}"]
        bits.append("areas=" + (",".join(s.areas) or "all"))
        if s.keywords:
            bits.append("keywords=" + ",".join(s.keywords))
        if s.channels:
            bits.append("channels=" + ",".join(s.channels))
        if s.score_threshold is not None:
            bits.append(f"threshold={s.score_threshold:g}")
        lines.append("  ".join(bits))
    return lines


def outbox_lines(rows: list[tuple], counts: dict[str, int]) -> list[str]:
    """What `radar alert --outbox` prints."""
    lines = ["outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
    for created, recipient, subject, st, attempts, error, mid in rows:
        lines.append(f"{created:%Y-%m-%d %H:%M} {st:<7} x{attempts} {recipient}  {subject}")
        lines.append(f"    {mid}" + (f"  last error: {error}" if error else ""))
    return lines
