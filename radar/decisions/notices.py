"""E-mail notices of the decision loop: a fired trigger to a decision's owner, a moving
watch item to subscribers. They are recorded in the alerts stage's outbox
(`alert_outbox`, state 'queued'), in the same transaction as the firing or
watch alert they report, and delivered by `radar alert` like every alert:
exactly once. Notices to a decision owner carry subscription_id 0 (no
subscription) and kind 'decision'; watch notices carry the subscriber's id and
kind 'watch'.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import jinja2

OWNER_SUBSCRIPTION = 0
SUBJECT_MAX = 140
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str | None) -> str:
    """Text fit for a header or a plain-text line: control characters and breaks become spaces."""
    return " ".join(_UNSAFE.sub(" ", value or "").split())


@dataclass(frozen=True)
class Notice:
    """A finished message for the outbox."""

    message_id: str
    recipient: str
    subject: str
    kind: str
    topic_ids: list[int]
    raw: str


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("radar.decisions", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)


def compose(*, sender: str, recipient: str, kind: str, subject: str, heading: str,
            lines: list[str], link: str | None, topic_ids: list[int], now: datetime,
            idstring: str) -> Notice:
    """A multipart (text + HTML) notice, quoted-printable so the stored message is ASCII."""
    subject = one_line(subject)
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    context = {"heading": one_line(heading), "lines": [one_line(x) for x in lines],
               "link": link if link and link.startswith(("http://", "https://")) else None}
    text = _env().get_template("notice.txt.j2").render(context)
    html = _env().get_template("notice.html.j2").render(context)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "", idstring) or "radar",
                            domain=one_line(domain))
    msg = EmailMessage(policy=SMTP)
    msg["From"] = one_line(sender)
    msg["To"] = one_line(recipient)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC), usegmt=True)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Notice(message_id, recipient, subject, kind, list(topic_ids), msg.as_string())


def enqueue(con, notice: Notice, subscription_id: int, run_id: int | None, now: datetime) -> None:
    """Put a notice in the alerts stage's outbox, inside the caller's transaction."""
    con.execute(
        "INSERT INTO alert_outbox (message_id, subscription_id, recipient, subject, kind, run_id, "
        "topic_ids, message, state, attempts, created_at, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)",
        [notice.message_id, int(subscription_id), notice.recipient, notice.subject, notice.kind,
         run_id, notice.topic_ids, notice.raw, now, now])
