"""The one-sentence reasons a strategist reads first: why a topic rose, or which new theme
it holds, in counts of sources and the new terms (pure string building from the tests'
results in radar/scoring/novelty.py and radar/scoring/themes.py)."""

from __future__ import annotations


def theme_words(terms: list[str], max_words: int = 4) -> str | None:
    """The new theme's name for the radar: its most surprising terms, the first always,
    then the next ones while the name stays within `max_words` words and adds a new word
    ("tsunami, indian ocean"); None without terms."""
    chosen: list[str] = []
    used: set[str] = set()
    for term in terms:
        words = term.split()
        if chosen and (used >= set(words) or len(used | set(words)) > max_words):
            continue
        chosen.append(term)
        used |= set(words)
    return ", ".join(chosen) or None


def _count(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 0.05 or x >= 10 else f"{x:.1f}"


def headline(rise: str, sources: int, all_sources: int | None, base_sources: float, volume: int,
             novel: int, terms: list[str], term_sources: dict, t: int, growth: float) -> str:
    """The one-sentence reason a strategist reads first, e.g. "New within the topic:
    mentioned by 23 of 180 sources, up from 4 a period; new terms: ebola (21 sources, up
    from 0), outbreak."."""
    lead = {"volume": "Rising: ", "novel terms": "New within the topic: "}.get(rise, "")
    of = f" of {all_sources}" if all_sources else ""
    text = f"{lead}mentioned by {sources}{of} sources, up from {_count(base_sources)} a period"
    if rise == "novel terms" and volume:
        text += f"; {novel} of its {volume} passages carry new terms"
    elif rise == "volume" and growth > 0:
        text += f"; {growth + 1:.1f}x its usual share of passages"
    if terms:
        shown = []
        for i, term in enumerate(terms[:4]):
            now, before = term_sources.get((t, term), (None, None))
            shown.append(f"{term} ({now} sources, up from {before})" if i == 0 and now else term)
        text += "; new terms: " + ", ".join(shown)
    return text + "."


def theme_headline(terms: list[str], term_sources: dict, t: int, passages: int, sources: int,
                   in_topic: int, volume: int) -> str:
    """The one-sentence reason of a new theme, e.g. "New theme within the topic: kosovo
    (7 sources this period, 2 in the periods before); 7 passages from 7 sources carry it,
    5 of the topic's 60."."""
    first = terms[0]
    now, before = term_sources.get((t, first), (None, None))
    head = f"{first} ({now} sources this period, {before} in the periods before)" \
        if now is not None else first
    also = f", with {', '.join(terms[1:4])}" if len(terms) > 1 else ""
    return (f"New theme within the topic: {head}{also}; {passages} passages from {sources} "
            f"sources carry it, {in_topic} of the topic's {volume}.")
