"""Delivering the outbox over SMTP, one claimed message at a time (see outbox.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from radar.alerts import outbox
from radar.alerts.smtp import DeliveryError, Mailer
from radar.core.config import Config
from radar.core.documents import utcnow

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
    pending = outbox.claim(path, outbox.due(path, clock()), token, clock())
    if not pending:
        return result
    try:
        with Mailer(cfg.smtp, cfg.base_dir) as mailer:
            _send_all(cfg, mailer, pending, token, now, result)
    except DeliveryError as exc:
        # The session failed (server down, login refused, connection lost): the
        # messages not yet tried go back to the queue with backoff.
        if not exc.connection:
            raise
        untried = [m.message_id for m in pending if m.message_id not in _settled(result)]
        retried, failed = outbox.mark_retry(path, untried, str(exc), clock(), cfg.smtp,
                                            token=token)
        result.retry += retried
        result.failed += failed
        result.errors.append(str(exc))
        log.warning("alert delivery: %s; %d message(s) wait in the outbox", exc, len(untried))
    return result


def _clock(now: datetime | None):
    # Tests pin the time; otherwise every step is stamped when it happens.
    return (lambda: now) if now is not None else utcnow


def _settled(result: DeliveryResult) -> set[str]:
    return set(result.sent) | set(result.retry) | set(result.failed) | set(result.unknown)


def _send_all(cfg: Config, mailer: Mailer, pending: list[outbox.Pending], token: str,
              now: datetime | None, result: DeliveryResult) -> None:
    """Send the claimed messages through one session.

    A message the server accepted is marked sent in the same transaction that
    marks the next one's DATA as begun (or on its own after the last one, or
    when the next one fails before DATA): one warehouse write per message.
    """
    path = cfg.warehouse_path
    clock = _clock(now)
    accepted: list[tuple[str, str]] = []  # at most one: accepted, not yet marked

    def before_data(mid: str) -> None:
        outbox.mark_data_started(path, mid, token, clock(), sent=accepted[0] if accepted else None)
        _settle_sent()

    def _settle_sent() -> None:
        if accepted:
            result.sent.append(accepted.pop()[0])

    def flush() -> None:
        if accepted:
            outbox.mark_sent(path, accepted[0][0], accepted[0][1], clock())
            _settle_sent()

    try:
        for msg in pending:
            mid = msg.message_id
            try:
                response = mailer.send(cfg.smtp.sender, msg.recipient, msg.raw,
                                       before_data=lambda m=mid: before_data(m))
            except outbox.LostClaim:
                continue
            except DeliveryError as exc:
                flush()
                _failed(cfg, path, msg, exc, token, clock(), result)
                if exc.connection:
                    raise
                continue
            accepted.append((mid, response))
    finally:
        flush()


def _failed(cfg: Config, path: Path, msg: outbox.Pending, exc: DeliveryError, token: str,
            now: datetime, result: DeliveryResult) -> None:
    if exc.ambiguous:
        outbox.mark_unknown(path, msg.message_id, str(exc))
        result.unknown.append(msg.message_id)
        result.errors.append(f"{msg.message_id}: {exc}")
    elif not exc.connection:
        retried, failed = outbox.mark_retry(path, [msg.message_id], str(exc), now, cfg.smtp,
                                            permanent=exc.permanent, token=token)
        result.retry += retried
        result.failed += failed
        result.errors.append(f"{msg.recipient}: {exc}")
