"""Writing the e-mail: plain text and HTML from Jinja2 templates, in one multipart message.

Labels, titles and quotes come from crawled text, so:
- the HTML template autoescapes everything (a label `<script>` shows as text);
- links are http(s) only (checked where evidence is read) and escaped in `href`;
- header values (subject, addresses) have every line-break and control
  character replaced by a space before they reach a header, so a label with
  CR/LF cannot start a new header or end the header block.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import jinja2

from radar.alerts.reads import Evidence, RadarTopic
from radar.alerts.triggers import Filters, Trigger

RING_COLOURS = {"Act": "#b3261e", "Prepare": "#e07b00", "Watch": "#2f6fb0", "Monitor": "#6b7a8a"}
EVENT_TEXT = {"entered": "new on the radar", "moved closer": "moved closer",
              "crossed threshold": "score crossed your threshold"}
SUBJECT_MAX = 140
# Everything str.splitlines() or a mail parser could treat as a line break, plus controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_safe(value: str) -> str:
    """One line of text fit for a header: line breaks and control characters become spaces."""
    return " ".join(_UNSAFE.sub(" ", value or "").split())


def text_safe(value: str) -> str:
    """Crawled text for the plain-text part: control characters removed, whitespace collapsed."""
    return " ".join(_UNSAFE.sub(" ", value or "").split())


@dataclass
class TopicItem:
    """One topic as shown in a message."""

    topic_id: int
    label: str
    ring: str
    stage: str
    event_text: str
    why: str
    link: str
    colour: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Composed:
    """A finished message, ready for the outbox."""

    message_id: str
    recipient: str
    subject: str
    kind: str
    topic_ids: list[int]
    text: str
    html: str
    raw: str  # the whole RFC 5322 message, CRLF line ends, ASCII only


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("radar.alerts", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )


def topic_link(base_url: str, topic_id: int) -> str:
    """The dashboard page of a topic: `{base_url}/topic?topic=N`."""
    return f"{base_url.rstrip('/')}/topic?topic={int(topic_id)}"


def why(signal: dict) -> str:
    """One sentence on why the topic is on the radar: growth, sources, channels, voice."""
    volume, growth, sources = signal.get("volume"), signal.get("growth"), signal.get("sources")
    parts = []
    if volume is not None:
        text = f"{volume} passage{'s' if volume != 1 else ''} this period"
        if growth is not None:
            text += f" ({growth * 100:+.0f}% on the period before)"
        parts.append(text)
    channels = [ch for ch in ("news", "policy", "citizen") if (signal.get(f"{ch}_share") or 0) > 0]
    if sources is not None:
        where = f" in {_join(channels)} {'channel' if len(channels) == 1 else 'channels'}" if channels else ""
        parts.append(f"from {sources} distinct source{'s' if sources != 1 else ''}{where}")
    sentence = ", ".join(parts) or "Scored onto the radar"
    sentence = sentence[0].upper() + sentence[1:]
    if signal.get("narrow_voice"):
        sentence += "; carried by a narrow set of voices, so weigh it with care"
    return sentence + "."


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_filters(f: Filters) -> str:
    """The subscription's filters in words, for the footer."""
    bits = [f"{f.min_ring} ring or closer"]
    bits.append("areas: " + ", ".join(f.areas) if f.areas else "all areas")
    if f.keywords:
        bits.append("keywords: " + ", ".join(f.keywords))
    if f.channels:
        bits.append("channels: " + ", ".join(f.channels))
    if f.score_threshold is not None:
        bits.append(f"score threshold {f.score_threshold:g}")
    return "; ".join(bits)


def items_for(triggers: list[Trigger], topics: dict[int, RadarTopic],
              evidence: dict[int, list[Evidence]], base_url: str,
              fresh: bool = False) -> list[TopicItem]:
    """The topics of one message, in trigger order.

    `fresh`: the subscription has no baseline yet (new, or its filters changed),
    so "entered" means on its radar now, not necessarily new to the radar. Likewise
    a topic that entered since the baseline but was already on the previous
    period's radar (movement not 'new') is "on your radar now"; one returning
    after it left is "back on the radar".
    """
    items = []
    for tr in triggers:
        topic = topics[tr.topic_id]
        event_text = EVENT_TEXT[tr.event]
        # A topic is "new" once: only in the period it first entered the radar.
        if tr.event == "entered" and topic.signal.get("movement") == "back":
            event_text = "back on the radar"
        elif tr.event == "entered" and (fresh or topic.signal.get("movement") not in (None, "new")):
            event_text = "on your radar now"
        if tr.event == "moved closer" and tr.previous_ring:
            event_text = f"moved closer, from {tr.previous_ring}"
        items.append(TopicItem(
            topic_id=tr.topic_id, label=text_safe(topic.state.label), ring=tr.ring,
            stage=text_safe(topic.signal.get("stage") or ""), event_text=event_text,
            why=text_safe(why(topic.signal)), link=topic_link(base_url, tr.topic_id),
            colour=RING_COLOURS.get(tr.ring, "#6b7a8a"),
            evidence=[Evidence(text_safe(e.title), e.url, text_safe(e.source), e.channel,
                               text_safe(e.quote)) for e in evidence.get(tr.topic_id, [])],
        ))
    return items


def subject_for(kind: str, items: list[TopicItem]) -> str:
    """`Horizon Radar: 2 topics rising: A, B` (digests say so), one line, at most 140 chars."""
    prefix = "Horizon Radar" if kind == "immediate" else f"Horizon Radar {kind} digest"
    n = len(items)
    subject = f"{prefix}: {n} topic{'s' if n != 1 else ''} rising: " + ", ".join(i.label for i in items)
    subject = header_safe(subject)
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1].rstrip() + "…"


def compose(*, sender: str, recipient: str, kind: str, items: list[TopicItem], filters: Filters,
            run_id: int | None, period_start: date | None, now: datetime) -> Composed:
    """Render both parts and build the multipart message with a fresh Message-ID."""
    subject = subject_for(kind, items)
    n = len(items)
    heading = "Rising on your radar" if kind == "immediate" else f"Your {kind} radar digest"
    context = {
        "heading": heading,
        "intro": f"{n} topic{'s' if n != 1 else ''} moved on the radar for your subscription"
                 + ("." if kind == "immediate" else f" since your last {kind} digest."),
        "topics": items, "recipient": recipient, "frequency": kind,
        "filters": describe_filters(filters), "run_id": run_id,
        "period": period_start.isoformat() if period_start else "",
    }
    text = _env().get_template("alert.txt.j2").render(context)
    html = _env().get_template("alert.html.j2").render(context)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring="radar", domain=header_safe(domain))
    msg = EmailMessage(policy=SMTP)
    msg["From"] = header_safe(sender)
    msg["To"] = header_safe(recipient)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC), usegmt=True)
    msg["Message-ID"] = message_id
    # RFC 3834: machine-generated, so auto-responders stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the stored message ASCII whatever the crawled text holds.
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Composed(message_id, recipient, subject, kind, [i.topic_id for i in items], text, html,
                    msg.as_string())
