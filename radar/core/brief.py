"""Briefs: one page on a signal (topic) or a service, ready to hand to a board.

`gather(path, cfg, topic_id=..., service_id=...)` reads everything a brief shows:
the trend (passages per period and channel), the radar position and why, whose
voice carries it, the expectation gap, evidence passages within the privacy
threshold, the services (or topics) it touches, and the linked decisions with
their steps, signposts and fired triggers. `radar.core.brief_render` turns it
into HTML and PDF.

Privacy: a citizen passage is quoted only when its topic's latest radar row has
`show_quotes` and at least `[scoring] min_authors` (k) distinct citizen authors
(the one rule of `radar.core.disclosure`). Otherwise the passage is left out and the
brief says how many were withheld and why. Authors are never named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from radar.core import disclosure, warehouse
from radar.core import exposure as exposure_mod
from radar.core.config import Config
from radar.core.documents import utcnow


class BriefError(LookupError):
    """Nothing to brief on: no such topic or service."""


@dataclass
class Evidence:
    """One passage shown in a brief."""

    topic: str
    title: str
    source: str
    channel: str
    published: object
    url: str | None
    text: str


@dataclass
class Brief:
    """Everything a brief shows (see the module docstring)."""

    kind: str                      # signal | service
    title: str
    subtitle: str
    made_at: datetime
    period: str                    # the radar's period unit
    latest_period: object
    facts: list[tuple[str, str]]   # (label, value) at the top
    why: list[str]
    voice: list[str]
    gap: str | None
    trend: pd.DataFrame            # period_start, channel, passages
    evidence: list[Evidence]
    withheld: int                  # citizen passages left out (privacy threshold)
    min_authors: int
    related: pd.DataFrame          # services a topic touches, or topics of a service
    decisions: list[dict] = field(default_factory=list)


def _pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.0%}"


def _latest(con):
    row = con.execute("SELECT run_id, period_start FROM radar_runs ORDER BY run_id DESC LIMIT 1"
                      ).fetchone()
    return row if row else (None, None)


def _signal(con, topic_id: int) -> dict:
    run_id, period = _latest(con)
    if run_id is None:
        return {}
    df = con.execute("SELECT * FROM signals WHERE run_id = ? AND period_start = ? AND topic_id = ?",
                     [run_id, period, int(topic_id)]).df()
    row = df.iloc[0].to_dict() if len(df) else {}
    return {k: (None if _na(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}


def _text(v, default: str) -> str:
    return default if v is None or _na(v) or v == "" else str(v)


def _na(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def quotes_allowed(signal: dict, min_authors: int) -> bool:
    """Whether a topic's citizen passages may be quoted: the scorer allowed quotes and the
    one small-group rule (`radar.core.disclosure`) holds for its authors (unknown: no)."""
    return bool(signal.get("show_quotes")) and disclosure.allow(
        channel="citizen", authors=signal.get("authors"), k=min_authors)


def _evidence(con, topic_ids: list[int], labels: dict[int, str], allowed: dict[int, bool],
              limit: int) -> tuple[list[Evidence], int]:
    if not topic_ids:
        return [], 0
    rows = con.execute("""
        SELECT t.topic_id, p.text, d.title, d.source, d.channel,
               coalesce(d.published_at, d.fetched_at) AS published, d.url, r.pos
        FROM topics t, unnest(coalesce(t.representative_passages, [])) WITH ORDINALITY AS r(pid, pos)
        JOIN passages p ON p.passage_id = r.pid
        JOIN documents d ON d.doc_id = p.doc_id
        WHERE list_contains(?::INTEGER[], t.topic_id)
        ORDER BY r.pos, t.topic_id""", [list(topic_ids)]).fetchall()
    order = {t: i for i, t in enumerate(topic_ids)}
    rows.sort(key=lambda r: (r[7], order[r[0]]))
    out, withheld = [], 0
    for tid, text, title, source, channel, published, url, _ in rows:
        if channel == "citizen" and not allowed.get(tid, False):
            withheld += 1
            continue
        if len(out) < limit:
            safe = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
            out.append(Evidence(labels.get(tid, str(tid)), title or "(untitled)", source, channel,
                                published, safe, text))
    return out, withheld


def _trend(con, topic_ids: list[int]) -> pd.DataFrame:
    return con.execute("SELECT period_start, channel, sum(passages)::INTEGER AS passages "
                       "FROM topic_periods WHERE list_contains(?::INTEGER[], topic_id) "
                       "GROUP BY ALL ORDER BY period_start, channel", [list(topic_ids)]).df()


def decisions_for(con, topic_ids: list[int], service_ids: list[int]) -> list[dict]:
    """Decisions linked to any of the topics or services, with steps, signposts and firings."""
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT decision_id FROM decision_links WHERE (kind = 'topic' AND "
        "list_contains(?::BIGINT[], ref_id)) OR (kind = 'service' AND list_contains(?::BIGINT[], ref_id)) "
        "ORDER BY decision_id", [list(topic_ids), list(service_ids)]).fetchall()]
    out = []
    for did in ids:
        head = con.execute("SELECT decision_id, title, owner, created_by, created_at, step "
                           "FROM decision_current WHERE decision_id = ?", [did]).fetchone()
        steps = con.execute(
            "SELECT step, who, \"at\", why, equity, sustainability, satisfaction, trust "
            "FROM decision_steps WHERE decision_id = ? ORDER BY entry_id", [did]).fetchall()
        signposts = con.execute(
            "SELECT s.signpost_id, s.kind, s.threshold, coalesce(t.label, w.name), f.fired_at, f.moved "
            "FROM signposts s LEFT JOIN topics t ON t.topic_id = s.topic_id "
            "LEFT JOIN watch_items w ON w.watch_id = s.watch_id "
            "LEFT JOIN signpost_firings f USING (signpost_id) WHERE s.decision_id = ? "
            "ORDER BY s.signpost_id", [did]).fetchall()
        links = con.execute("SELECT kind, label FROM decision_links WHERE decision_id = ? "
                            "ORDER BY kind, ref_id", [did]).fetchall()
        queued = con.execute("SELECT count(*) FROM reassessment_queue WHERE decision_id = ?",
                             [did]).fetchone()[0] > 0
        out.append({"id": head[0], "title": head[1], "owner": head[2], "created_by": head[3],
                    "created_at": head[4], "step": head[5], "links": links, "queued": queued,
                    "steps": [dict(zip(("step", "who", "at", "why", "equity", "sustainability",
                                        "satisfaction", "trust"), s, strict=True)) for s in steps],
                    "signposts": [dict(zip(("id", "kind", "threshold", "on", "fired_at", "moved"), s,
                                           strict=True)) for s in signposts]})
    return out


def _voice_lines(signal: dict, min_authors: int) -> list[str]:
    if not signal:
        return ["Not scored on the radar yet."]
    lines = [f"Channels: news {_pct(signal.get('news_share'))}, policy {_pct(signal.get('policy_share'))}, "
             f"citizens {_pct(signal.get('citizen_share'))} of this period's passages.",
             f"{signal.get('sources') or 0} distinct sources carry it"
             f" (effective {signal.get('effective_sources') or 0:.1f})."]
    authors = signal.get("authors")
    if authors:
        share = signal.get("top_author_share")
        lines.append(f"{authors} distinct citizen authors" + (
            f"; the most active wrote {share:.0%} of the citizen passages." if share else "."))
    if signal.get("narrow_voice"):
        lines.append("Narrow voice: a few sources or accounts carry it, so it is held at Watch at most.")
    if authors is not None and authors < min_authors:
        lines.append(f"Fewer than {min_authors} distinct citizen authors: citizen posts are counted, "
                     "never quoted.")
    return lines


def _gap_line(signal: dict) -> str | None:
    gap = signal.get("expectation_gap")
    if gap is None:
        return None
    text = (f"Citizens' attention {_pct(signal.get('citizen_attention'))} vs policy "
            f"{_pct(signal.get('policy_attention'))}: gap {gap * 100:+.1f} share points")
    return text + (" — at risk: citizens rising, policy silent." if signal.get("gap_risk") else ".")


def gather(path: str | os.PathLike, cfg: Config, *, topic_id: int | None = None,
           service_id: int | None = None) -> Brief:
    """The brief of a topic (signal) or of a service; BriefError when it does not exist."""
    if (topic_id is None) == (service_id is None):
        raise BriefError("a brief is about one topic or one service")
    k = cfg.scoring.min_authors
    limit = cfg.decisions.brief_passages
    with warehouse.read(path) as con:
        _, latest = _latest(con)
        if topic_id is not None:
            return _topic_brief(con, cfg, int(topic_id), latest, k, limit)
        return _service_brief(con, cfg, int(service_id), latest, k, limit)


def _topic_brief(con, cfg: Config, topic_id: int, latest, k: int, limit: int) -> Brief:
    row = con.execute("SELECT label, top_terms, service_area, first_seen, size FROM topics "
                      "WHERE topic_id = ?", [topic_id]).fetchone()
    if row is None:
        raise BriefError(f"no topic {topic_id} in the warehouse")
    label, terms, area, first_seen, size = row
    sig = _signal(con, topic_id)
    evidence, withheld = _evidence(con, [topic_id], {topic_id: label},
                                   {topic_id: quotes_allowed(sig, k)}, limit)
    related = exposure_mod.service_topics(con)
    related = related[related["topic_id"] == topic_id][["service", "status", "match", "keyword_hits"]]
    facts = [("Ring", sig.get("ring") or "off the radar"), ("Stage", sig.get("stage") or "–"),
             ("Score", f"{sig['score']:.0f}" if sig.get("score") is not None else "–"),
             ("Passages this period", str(sig.get("volume") or 0)),
             ("Service area", area), ("First seen", str(first_seen or "–")),
             ("Passages in all", str(size))]
    return Brief("signal", label, "Terms: " + ", ".join(terms or []), utcnow(), cfg.analysis.period,
                 latest, facts, [x for x in (sig.get("reasons"),) if x], _voice_lines(sig, k),
                 _gap_line(sig), _trend(con, [topic_id]), evidence, withheld, k,
                 related.reset_index(drop=True), decisions_for(con, [topic_id], []))


def _service_brief(con, cfg: Config, service_id: int, latest, k: int, limit: int) -> Brief:
    row = con.execute("SELECT name, owner, area, description, keywords FROM services "
                      "WHERE service_id = ?", [service_id]).fetchone()
    if row is None:
        raise BriefError(f"no service {service_id} in the catalogue")
    name, owner, area, description, keywords = row
    ranking = exposure_mod.ranking(con, cfg.analysis.period)
    mine = ranking[ranking["service_id"] == service_id]
    rank = int(mine.index[0]) + 1 if len(mine) else None
    info = mine.iloc[0].to_dict() if len(mine) else {}
    topics = exposure_mod.service_topics(con)
    topics = topics[topics["service_id"] == service_id].copy()
    topics["weight"] = [exposure_mod.loop.exposure([exposure_mod.loop.TopicOnRadar(
        int(r.topic_id), float(r.match), r.ring if isinstance(r.ring, str) else None,
        exposure_mod.rising(r.stage), bool(r.gap_risk))]) for r in topics.itertuples()]
    topics = topics.sort_values(["weight", "match"], ascending=False)
    ids = [int(t) for t in topics["topic_id"]]
    labels = dict(zip(ids, topics["label"], strict=True))
    allowed = {t: quotes_allowed(_signal(con, t), k) for t in ids}
    evidence, withheld = _evidence(con, [t for t in ids if t in labels][:5], labels, allowed, limit)
    facts = [("Exposure", f"{info.get('exposure', 0):.2f}"
              + (f" (rank {rank} of {len(ranking)})" if rank else "")),
             ("Owner", owner or "–"), ("Service area", area or "any"),
             ("Topics touching it", str(len(ids))), ("Rising", str(info.get("rising", 0))),
             ("With an expectation gap", str(info.get("gap_topics", 0)))]
    voice = [f"This period: {info.get('sources', 0)} distinct sources, {info.get('authors', 0)} distinct "
             f"citizen authors; passages: news {info.get('news', 0)}, policy {info.get('policy', 0)}, "
             f"citizens {info.get('citizen', 0)}."]
    gap = info.get("gap")
    gap_line = None if gap is None or pd.isna(gap) else (
        f"Sum of its topics' expectation gaps: {gap * 100:+.1f} share points; "
        f"{info.get('gap_topics', 0)} topic(s) at risk (citizens rising, policy silent).")
    why = [f"{r.label}: {_text(r.ring, 'off the radar')}, {_text(r.stage, 'no stage')} "
           f"(match {r.match:.2f})" for r in topics.head(8).itertuples()]
    related = topics[["label", "ring", "stage", "match", "status", "expectation_gap"]].rename(
        columns={"label": "topic"}).reset_index(drop=True)
    return Brief("service", name, description or ", ".join(keywords or []), utcnow(),
                 cfg.analysis.period, latest, facts, why, voice, gap_line, _trend(con, ids), evidence,
                 withheld, k, related, decisions_for(con, ids, [service_id]))
