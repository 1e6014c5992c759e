"""Delivering the outbox over SMTP, one claimed message at a time (see outbox.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from radar.alerts import outbox
from radar.alerts.smtp import DeliveryError, Mailer
from radar.config import Config
from radar.documents import utcnow

log = logging.getLogger(__name__)


@dataclass
class DeliveryResult:
    """What one delivery pass did."""

    sent: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # recovered from an interrupted run
    errors: list[str] = field(default_factory=list)


def deliver(cfg: Config, now: datetime | None = None) -> DeliveryResult:
    """Recover abandoned deliveries, then send every due queued message."""
    token = outbox.process_token()
    try:
        return _deliver(cfg, token, now)
    finally:
        outbox.end_run(token)


def _deliver(cfg: Config, token: str, now: datetime | None) -> DeliveryResult:
    path: Path = cfg.warehouse_path
    clock = _clock(now)
    result = DeliveryResult()
    recovered = outbox.recover(path, clock(), cfg.smtp.stale_after, token)
    result.requeued, result.unknown = recovered.requeued, list(recovered.unknown)
    for mid in recovered.unknown:
        result.errors.append(f"{mid}: interrupted during delivery earlier; may have been "
                             "delivered, not resent (see `radar alert --outbox`)")
    pending = outbox.due(path, clock())
    if not pending:
        return result
    try:
        with Mailer(cfg.smtp, cfg.base_dir) as mailer:
            _send_all(cfg, mailer, pending, token, now, result)
    except DeliveryError as exc:
        # No session at all (server down, login refused): nothing was tried, all wait.
        if not exc.connection:
            raise
        untried = [m for m in pending if m not in _settled(result)]
        retried, failed = outbox.mark_retry(path, untried, str(exc), clock(), cfg.smtp)
        result.retry += retried
        result.failed += failed
        result.errors.append(str(exc))
        log.warning("alert delivery: %s; %d message(s) stay queued", exc, len(untried))
    return result


def _clock(now: datetime | None):
    # Tests pin the time; otherwise every step is stamped when it happens.
    return (lambda: now) if now is not None else utcnow


def _settled(result: DeliveryResult) -> set[str]:
    return set(result.sent) | set(result.retry) | set(result.failed) | set(result.unknown)


def _send_all(cfg: Config, mailer: Mailer, pending: list[str], token: str,
              now: datetime | None, result: DeliveryResult) -> None:
    path = cfg.warehouse_path
    clock = _clock(now)
    for mid in pending:
        msg = outbox.claim(path, mid, token, clock())
        if msg is None:
            continue  # another run took it
        try:
            response = mailer.send(
                cfg.smtp.sender, msg.recipient, msg.raw,
                before_data=lambda m=msg: outbox.mark_data_started(path, m.message_id, token,
                                                                    clock()),
            )
        except outbox.LostClaim:
            continue
        except DeliveryError as exc:
            if exc.ambiguous:
                outbox.mark_unknown(path, mid, str(exc))
                result.unknown.append(mid)
                result.errors.append(f"{mid}: {exc}")
            elif exc.connection:
                outbox.release(path, mid)  # never reached DATA: not an attempt against it
                raise
            else:
                retried, failed = outbox.mark_retry(path, [mid], str(exc), clock(), cfg.smtp,
                                                    permanent=exc.permanent, token=token)
                result.retry += retried
                result.failed += failed
                result.errors.append(f"{msg.recipient}: {exc}")
            if exc.connection:
                raise DeliveryError(f"SMTP connection lost: {exc}", connection=True) from exc
            continue
        outbox.mark_sent(path, mid, response, clock())
        result.sent.append(mid)
