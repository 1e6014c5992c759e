"""Rendering a brief (radar.core.brief) as HTML and PDF.

The HTML is one self-contained file (inline CSS, the trend chart as inline SVG,
no scripts, no external resources) from a Jinja2 template with autoescaping, so
crawled text in labels and passages shows as text. The PDF is the same HTML
printed by WeasyPrint (a PyPI package; it needs the system's Pango library),
which never fetches anything: external URLs are refused by its URL fetcher.
"""

from __future__ import annotations

import functools
from html import escape

import jinja2
import pandas as pd

from radar.core.brief import Brief

CHANNEL_COLOURS = {"news": "#2f6fb0", "policy": "#7b4fa0", "citizen": "#d9822b"}
WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 640, 220, 44, 40, 14, 110


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library it needs) is not installed."""


def trend_svg(trend: pd.DataFrame, period: str = "month") -> str:
    """Passages per period and channel as an inline SVG line chart (empty note when no data)."""
    if trend.empty:
        return '<p class="muted">No passages counted per period yet.</p>'
    table = trend.pivot_table(index="period_start", columns="channel", values="passages",
                              aggfunc="sum", fill_value=0).sort_index()
    periods = list(table.index)
    top = max(1, int(table.to_numpy().max()))
    n = len(periods)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return PAD_T + plot_h * (1 - v / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Passages per period by channel" '
             'font-family="sans-serif" font-size="10">']
    for frac in (0, 0.5, 1):
        v = top * frac
        parts.append(f'<line x1="{PAD_L}" x2="{PAD_L + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     'stroke="#d5dbe1" stroke-width="1"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y(v) + 3:.1f}" text-anchor="end">{v:.0f}</text>')
    step = max(1, n // 8)
    fmt = {"year": "%Y", "month": "%b %Y"}.get(period, "%Y-%m-%d")
    for i in range(0, n, step):
        ts = pd.Timestamp(periods[i])
        label = f"Q{ts.quarter} {ts.year}" if period == "quarter" else ts.strftime(fmt)
        parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - PAD_B + 14}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    for k, channel in enumerate(table.columns):
        colour = CHANNEL_COLOURS.get(channel, "#6b7a8a")
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(table[channel]))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<rect x="{WIDTH - PAD_R + 12}" y="{PAD_T + 14 * k}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{WIDTH - PAD_R + 26}" y="{PAD_T + 14 * k + 9}">'
                     f'{escape(str(channel))}</text>')
    parts.append("</svg>")
    return "".join(parts)


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("radar.core", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    env.filters["day"] = lambda v: "–" if v is None or (not isinstance(v, str) and pd.isna(v)) \
        else str(v)[:10]
    return env


def render_html(brief: Brief) -> str:
    """The brief as one self-contained HTML document."""
    rows = [[_cell(v) for v in row] for row in brief.related.itertuples(index=False)]
    return _env().get_template("brief.html.j2").render(
        b=brief, chart=trend_svg(brief.trend, brief.period),
        related_cols=[c.replace('_', ' ') for c in brief.related.columns], related_rows=rows)


def _cell(v) -> str:
    if isinstance(v, str):
        return v
    if hasattr(v, "tolist") and not isinstance(v, float):
        v = v.tolist()
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v)) or "–"
    if _missing(v):
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"a brief fetches nothing: refused {url[:80]}")


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF with WeasyPrint; PdfUnavailable when it cannot be loaded."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(f"PDF briefs need WeasyPrint and the Pango library: {exc}") from exc
    return weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf()
