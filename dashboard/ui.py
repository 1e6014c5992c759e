"""Small rendering helpers: crawled text shown as text, safe links, labels."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import quote, urlsplit

import pandas as pd

# Every ASCII punctuation character Markdown (and Streamlit's extensions: :colour[...],
# :material/icon:, $latex$) could give meaning to is backslash-escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|:~$&=\"'^])")


def esc(text: object) -> str:
    """Crawled or user text made inert for st.markdown: it shows exactly as written."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def safe_url(url: object) -> str | None:
    """An http(s) URL fit for a Markdown link target, or None (javascript:, data: ... refused)."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?&=#%+@,;~!$*'").replace("(", "%28").replace(")", "%29")


def link(label: object, url: object) -> str:
    """A Markdown link with an escaped label, or the escaped label alone when the URL is unsafe."""
    target = safe_url(url)
    return f"[{esc(label)}]({target})" if target else esc(label)


def day(value: object) -> str:
    """A date or timestamp as YYYY-MM-DD, or a dash."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def stage_text(stage: object, theme: object = None, missing: str = "no stage") -> str:
    """A topic's stage as the radar shows it, with the new theme it stands for when it has one:
    "weak signal: tsunami, indian ocean" (the topic's own label may be a broad one).
    `missing` stands for a topic too small to stage ("—" in tables)."""
    if not (isinstance(stage, str) and stage):
        return missing
    return f"{stage}: {theme}" if isinstance(theme, str) and theme else stage


def period_label(value: object, period: str = "month") -> str:
    """A period start in words: 'November 2026', 'week of 2026-11-02', 'Q4 2026', '2026'."""
    ts = pd.Timestamp(value)
    if period == "month":
        return ts.strftime("%B %Y")
    if period == "quarter":
        return f"Q{ts.quarter} {ts.year}"
    if period == "year":
        return ts.strftime("%Y")
    if period == "week":
        return f"week of {ts:%Y-%m-%d}"
    return ts.strftime("%Y-%m-%d")


def record(row: pd.Series) -> dict:
    """A DataFrame row as a plain dict with NaN/NA turned into None."""
    out = {}
    for k, v in row.items():
        try:
            out[k] = None if pd.isna(v) else v
        except (TypeError, ValueError):  # lists and arrays
            out[k] = v
    return out
