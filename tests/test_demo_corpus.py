"""The demo corpus generator: seeded, long enough, with the planted trends where promised."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from radar.app.demo.background import BACKGROUND
from radar.app.demo.comments import load_comments
from radar.app.demo.corpus import generate
from radar.app.demo.planted import PLANTED

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

TODAY = date(2026, 11, 15)


@pytest.fixture(scope="module")
def corpus():
    return generate(seed=7, scale=0.5, today=TODAY)


def _fingerprint(c):
    return (
        [(a.outlet, a.title, a.paragraphs, a.published, a.also_in) for a in c.articles],
        [(p.title, p.sections, p.published, p.fmt) for p in c.papers],
        [(t.title, [(p.username, p.text, p.published) for p in t.posts]) for t in c.threads],
    )


def test_same_seed_same_corpus_other_seed_other_corpus(corpus):
    assert _fingerprint(generate(seed=7, scale=0.5, today=TODAY)) == _fingerprint(corpus)
    assert _fingerprint(generate(seed=8, scale=0.5, today=TODAY)) != _fingerprint(corpus)


def test_timeline_covers_18_months_ending_this_month_and_never_the_future(corpus):
    assert len(corpus.months) >= 18
    assert corpus.months[-1] == date(2026, 11, 1)
    stamps = [a.published for a in corpus.articles] + [p.published for p in corpus.papers]
    stamps += [p.published for t in corpus.threads for p in t.posts]
    assert max(stamps).date() <= TODAY
    assert min(stamps).date() >= corpus.months[0]


def test_background_themes_cover_every_service_area_steadily(corpus):
    areas = {t.area for t in BACKGROUND}
    for area in ("libraries", "transport", "housing", "health and care", "environment and energy",
                 "education", "safety", "digital services", "democracy and participation",
                 "culture and leisure"):
        assert sum(t.area == area for t in BACKGROUND) >= 3, area
    assert areas <= {t.area for t in BACKGROUND}
    news_per_month = [0] * len(corpus.months)
    for t in BACKGROUND:
        for i, n in enumerate(corpus.theme_counts(t.key)["news"]):
            news_per_month[i] += n
    assert min(news_per_month) >= 0.8 * max(news_per_month)  # steady, not rising


def _first(series: list[int]) -> int:
    return next(i for i, n in enumerate(series) if n)


def test_planted_trends_rise_and_citizens_come_first(corpus):
    keys = {t.key for t in PLANTED}
    assert {"library-makerspaces", "self-service-libraries", "e-scooter-parking",
            "heat-pump-grants", "digital-identity"} <= keys
    for key in ("library-makerspaces", "self-service-libraries", "e-scooter-parking",
                "heat-pump-grants", "digital-identity"):
        counts = corpus.theme_counts(key)
        total = [sum(ch[i] for ch in counts.values()) for i in range(len(corpus.months))]
        assert sum(total[:6]) == 0, key                 # absent at the start
        assert sum(total[-3:]) > sum(total[-9:-6]), key  # rising at the end
    makers = corpus.theme_counts("library-makerspaces")
    assert _first(makers["citizen"]) < _first(makers["news"]) < _first(makers["policy"])
    assert sum(corpus.theme_counts("e-scooter-parking")["policy"]) == 0  # the expectation gap
    fading = corpus.theme_counts("bus-fare-freeze")["news"]
    assert sum(fading[:4]) >= 8 * max(sum(fading[-6:]), 1)  # big, then (nearly) gone


def test_texts_vary_and_voice_expectations(corpus):
    leads = [" ".join(a.paragraphs) for a in corpus.articles]
    assert len(set(leads)) > 0.95 * len(leads)
    posts = [p for t in corpus.threads for p in t.posts]
    assert len({p.text for p in posts}) > 0.95 * len(posts)
    makers = [p.text.lower() for p in posts if p.theme == "library-makerspaces"]
    assert any("should" in t or "we need" in t or "i wish" in t or "why is there still no" in t
               for t in makers)
    planted = [p for p in posts if p.theme == "e-scooter-parking"]
    assert len({p.username for p in planted}) >= 5  # many voices, not one
    tram = {p.username for p in posts if p.theme == "tram-campaign"}
    assert len(tram) == 1  # the planted narrow voice


def test_real_comments_are_mixed_in_with_distinct_pseudonyms(corpus):
    real = [p for t in corpus.threads for p in t.posts if p.theme.startswith("real:")]
    assert len(real) >= 100
    assert len({p.username for p in real}) >= 50
    shipped = {c.text for c in load_comments()}
    assert all(p.text in shipped for p in real)


@pytest.mark.skipif(not (SHARED / "citizen-polis").exists(), reason="shared fixtures absent")
def test_shipped_comments_are_real_and_not_rejected_by_moderators():
    rejected, accepted = set(), set()
    for path in (SHARED / "citizen-polis").glob("*/comments.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = " ".join(row["comment-body"].split())
                (rejected if row["moderated"] == "-1" else accepted).add(text)
    for c in load_comments():
        assert c.text in accepted
        assert c.text not in rejected or c.text in accepted
