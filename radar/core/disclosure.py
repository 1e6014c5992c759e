"""The one small-group rule for citizen text leaving the warehouse (k-anonymity).

Citizen words (a post, a snippet, a quote, an expectation phrase) may be shown,
mailed or exported only when the group they speak for has at least k distinct
authors; below that, readers get counts, never text. News and policy texts are
public documents and always pass. An unknown author count withholds (fail closed).

Every exit calls `allow` (or `gate` for one text): the dashboard's evidence, search
results and snippets, expectation phrases, alerts, briefs and exports.

    from radar.core.disclosure import gate
    text = gate(row.text, channel=row.channel, authors=topic_authors, k=cfg.scoring.min_authors)
    if text is None: show withheld_note(topic_authors, k) instead
"""

from __future__ import annotations

from dataclasses import dataclass

CITIZEN = "citizen"


@dataclass(frozen=True)
class Decision:
    """Whether a text may leave, and the sentence to show instead when it may not."""

    show: bool
    note: str = ""


def allow(*, channel: str | None, authors: int | None, k: int) -> bool:
    """True when a text of this channel, in a group of `authors` distinct authors, may leave."""
    if channel is not None and channel != CITIZEN:
        return True
    if authors is None or k is None:
        return False
    return int(authors) >= max(int(k), 1)


def decide(*, channel: str | None, authors: int | None, k: int) -> Decision:
    """`allow` plus the count-only sentence readers see instead of withheld text."""
    if allow(channel=channel, authors=authors, k=k):
        return Decision(True)
    return Decision(False, withheld_note(authors, k))


def gate(text: str | None, *, channel: str | None, authors: int | None, k: int) -> str | None:
    """The text when it may leave, else None (the caller shows counts instead)."""
    return text if allow(channel=channel, authors=authors, k=k) else None


def withheld_note(authors: int | None, k: int) -> str:
    """What a reader sees instead of citizen text in a group smaller than k."""
    count = "an unknown number of" if authors is None else f"{int(authors)}"
    noun = "author" if authors == 1 else "authors"
    return (f"Citizen text withheld: {count} distinct {noun} (fewer than {k}), "
            "so a single person could be identified.")
