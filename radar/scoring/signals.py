"""Every topic scored in every period: the radar's decisions, pure (no database).

`compute_signals` turns a `TopicSeries` into signal rows: growth and its credible lower
bound, bursts, novelty, new themes, breadth and voice, each topic's stage and ring, the
one-sentence reason, and movement against the period before. It uses data up to each
period only; `radar.scoring.score` reads the series and stores the rows.
"""

from __future__ import annotations

import math

import numpy as np

from radar.core.config import ScoringConfig
from radar.scoring.burst import kleinberg_online
from radar.scoring.gap import expectation_gap
from radar.scoring.inputs import TopicSeries
from radar.scoring.kem import degrees, kem_axes, quadrants
from radar.scoring.metrics import (
    WeightedScorer,
    acceleration,
    channel_mix,
    expectation_growth,
    expectation_share,
    expected_volume,
    first_seen_index,
    growth,
    novelty,
    score_components,
    share,
    surprise,
)
from radar.scoring.novelty import calibrated_rise, topic_novelty
from radar.scoring.reasons import headline, theme_headline, theme_words
from radar.scoring.rings import (
    Evidence,
    RingRules,
    narrow_voice,
    period_movement,
    reasons,
    ring,
    show_quotes,
    stage,
)
from radar.scoring.termdata import term_counts
from radar.scoring.themes import new_themes, term_test_settings


def _f(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def compute_signals(series: TopicSeries, sc: ScoringConfig, scorer=None) -> list[dict]:
    """Score every topic in every period (pure: no database). Rows without run_id.

    `scorer` turns the score components into the score (default WeightedScorer).

    A row is produced for every topic on the radar in a period, and for a
    topic that has just left it (ring None, movement 'left'). `previous_ring`
    and `movement` compare each period with the period before in this replay
    (see `period_movement`: a topic is 'new' once, 'back' when it returns).
    """
    K, T = series.shape
    if K == 0 or T == 0:
        return []
    P, N, D = series.passages, series.total_passages, series.total_documents
    W = sc.baseline_periods
    m = {
        "share": share(P, N),
        "growth": growth(P, N, W),
        "surprise": surprise(P, N, W),
        "expected": expected_volume(P, N, W),
        "novelty": novelty(P, sc.novelty_half_life),
        "dov": degrees(P, D),
        "dod": degrees(series.documents, D),
        "expectation_share": expectation_share(series.expectation, P),
        "expectation_growth": expectation_growth(series.expectation, N, W),
    }
    m["acceleration"] = acceleration(m["growth"])
    _, m["burst"] = kleinberg_online(P, N, s=sc.burst_s, gamma=sc.burst_gamma, window=W)
    m["kem_frequency"], m["kem_growth"] = kem_axes(series.documents, D, W, sc.kem_time_weight)
    quad = quadrants(m["kem_frequency"], m["kem_growth"], P > 0)
    mix = channel_mix(series.channel_passages, P)
    gap = expectation_gap(
        series.channel_passages["citizen"], series.channel_passages["policy"],
        series.channel_totals["citizen"], series.channel_totals["policy"],
        sc.gap_periods, sc.gap_min, sc.min_volume,
    )
    if series.terms is not None:
        settings = term_test_settings(sc)
        if series.terms.chosen_for not in (None, settings):
            raise ValueError("the series' term passages were chosen for other scoring settings "
                             f"{series.terms.chosen_for}, not {settings}: load the series "
                             "with these settings")
        nov = topic_novelty(series.terms, K, T, *settings)
        novel, new_terms, term_sources, novel_phi = nov.novel, nov.terms, nov.term_sources, nov.phi
        themes = new_themes(series.terms, nov.tested, K, T, *settings, sc.min_authors,
                            sc.max_top_author_share)
    else:
        novel, new_terms, term_sources, novel_phi = np.zeros((K, T)), {}, {}, None
        themes = None
    rise = calibrated_rise(P, N, novel, W, sc.fdr, 1.0 + sc.min_growth, novel_phi,
                           novel_lump=sc.min_volume)
    # The score's growth part is the growth we are sure of: the lower confidence bound of
    # the rate ratio (volume, novel passages or a new theme's strongest term, whichever is
    # higher); a topic with no baseline at all keeps its point growth.
    sure = np.maximum(rise.ratio_volume, rise.ratio_novel) - 1.0
    if themes is not None:
        sure = np.maximum(sure, themes.ratio - 1.0)
    credible = np.where(np.isfinite(sure), np.minimum(sure, np.maximum(m["growth"], sure)),
                        m["growth"])
    all_sources = _sources_per_period(series, T)
    # A topic holding a new theme is scored on the theme's voices and passages too when the
    # theme is wider than the topic's own share of it (a new theme is often spread over a few
    # topics at first: seven speakers on Kosovo, three of them in the Balkans topic).
    breadth_in, volume_in = series.effective_sources, P
    if themes is not None:
        breadth_in = np.maximum(breadth_in, themes.effective_sources)
        volume_in = np.maximum(volume_in, themes.passages)
    comps = score_components(credible, m["burst"], m["novelty"], breadth_in, volume_in,
                             m["expectation_growth"])
    score = (scorer or WeightedScorer()).score(comps)
    first = first_seen_index(P).tolist()
    rules = RingRules.from_config(sc)
    # The loop reads Python lists: a numpy scalar per cell costs more than the rules do.
    v = {name: arr.tolist() for name, arr in m.items()}
    vol, sc_, src = P.tolist(), score.tolist(), series.sources.tolist()
    eff, authors, top = (series.effective_sources.tolist(), series.authors.tolist(),
                         series.top_author_share.tolist())
    citizen, news, policy = mix["citizen"].tolist(), mix["news"].tolist(), mix["policy"].tolist()
    gap_risk, gap_gap = gap.risk.tolist(), gap.gap.tolist()
    citizen_att, policy_att = gap.citizen_attention.tolist(), gap.policy_attention.tolist()
    significant, reason = rise.significant.tolist(), rise.reason.tolist()
    novel_n, credible_l, quad_l = novel.tolist(), credible.tolist(), quad.tolist()
    present = themes.present.tolist() if themes is not None else None
    rows: list[dict] = []
    for k in range(K):
        prev_ring, seen = None, False
        for t in range(T):
            e = Evidence(
                period_index=t, volume=int(vol[k][t]), expected=float(v["expected"][k][t]),
                growth=float(v["growth"][k][t]), z=float(v["surprise"][k][t]),
                burst=float(v["burst"][k][t]), novelty=float(v["novelty"][k][t]),
                quadrant=quad_l[k][t], score=float(sc_[k][t]),
                sources=int(src[k][t]), effective_sources=float(eff[k][t]),
                citizen_share=float(citizen[k][t]), authors=int(authors[k][t]),
                top_author_share=float(top[k][t]),
                age=int(t - first[k]) if 0 <= first[k] <= t else -1,
                expectation_share=float(v["expectation_share"][k][t]),
                expectation_growth=float(v["expectation_growth"][k][t]),
                gap_risk=bool(gap_risk[k][t]),
                significant=bool(significant[k][t]),
                new_theme=bool(present is not None and present[k][t]),
            )
            terms_kt = new_terms.get((k, t), [])
            why = reason[k][t] or ("new theme" if e.new_theme else "")
            theme = (theme_words(themes.terms[(k, t)]) if why == "new theme"
                     else theme_words(terms_kt) if why == "novel terms" else None)
            if why == "new theme":
                e.headline = theme_headline(
                    themes.terms[(k, t)], term_sources, t, int(themes.passages[k, t]),
                    int(themes.sources[k, t]), int(themes.in_topic[k, t]), e.volume)
            elif significant[k][t] or terms_kt:
                e.headline = headline(
                    reason[k][t], e.sources, all_sources[t],
                    _baseline_mean(series.sources[k], t, W), e.volume, int(novel_n[k][t]),
                    terms_kt, term_sources, t, float(v["growth"][k][t]))
            st = stage(e, rules)
            narrow = narrow_voice(e, rules)
            rg = ring(e, st, narrow, rules)
            mv = period_movement(prev_ring, rg, seen)
            if rg is not None or mv == "left":
                rows.append({
                    "period_start": series.periods[t], "topic_id": series.topic_ids[k],
                    "score": e.score, "stage": st, "ring": rg, "volume": e.volume,
                    **{name: _f(arr[k][t]) for name, arr in v.items()},
                    "quadrant": e.quadrant, "sources": e.sources,
                    "effective_sources": e.effective_sources,
                    "news_share": _f(news[k][t]), "policy_share": _f(policy[k][t]),
                    "citizen_share": e.citizen_share, "authors": e.authors,
                    "top_author_share": e.top_author_share, "narrow_voice": narrow,
                    "show_quotes": show_quotes(e.authors, rules),
                    "expectation_gap": _f(gap_gap[k][t]), "gap_risk": e.gap_risk,
                    "citizen_attention": _f(citizen_att[k][t]),
                    "policy_attention": _f(policy_att[k][t]),
                    "previous_ring": prev_ring, "movement": mv,
                    "reasons": reasons(e, st, rg, narrow, rules),
                    "new_terms": terms_kt, "novel_passages": int(novel_n[k][t]),
                    "rise": why or None, "credible_growth": _f(credible_l[k][t]), "theme": theme,
                })
            prev_ring, seen = rg, seen or rg is not None
    return rows


def _baseline_mean(x: np.ndarray, t: int, window: int) -> float:
    """Mean of x over the `window` periods before t (0 with no history)."""
    lo = max(0, t - window)
    return float(np.mean(x[lo:t])) if t > lo else 0.0


def _sources_per_period(series: TopicSeries, T: int) -> list[int | None]:
    """Distinct sources with any passage in each period (None when unknown)."""
    if series.terms is None:
        return [None] * T
    return [int(n) for n in term_counts(series.terms, T).period_sources]
