"""Fast checks of the crawler's building blocks: dedup, dates, extraction, settings."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from crawl_web import make_pdf, wrap

from crawlers.dedup import DedupIndex, content_key, simhash, to_signed, to_unsigned, words
from crawlers.extract import ExtractionError, extract_html, extract_pdf, html_to_text
from crawlers.pipelines import parse_date, state_key
from crawlers.settings import source_settings, user_agent
from crawlers.spiders.feeds import parse_feed_bytes
from radar.core.config import parse_config

VOCAB = [f"w{i}" for i in range(3000)]


def _text(seed: int, n: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def test_simhash_is_close_for_edited_copies_and_far_for_other_texts():
    story = _text(1)
    copy = "By A. Reporter, Wire Service. " + story + " Copyright 2026 Example News."
    edited = story.replace(story.split()[40], "changed", 1)
    base = simhash(words(story))
    assert (base ^ simhash(words(edited))).bit_count() <= 8
    assert (base ^ simhash(words(copy))).bit_count() <= 10
    others = [(base ^ simhash(words(_text(s)))).bit_count() for s in range(2, 30)]
    assert min(others) > 16


def test_simhash_is_stable_and_fits_bigint():
    value = simhash(words("the library opens a makerspace on saturdays"))
    assert value == simhash(words("The library opens a makerspace on Saturdays!"))
    assert to_unsigned(to_signed(value)) == value
    assert -(2**63) <= to_signed(value) < 2**63


def test_dedup_index_finds_near_duplicates_through_its_bands():
    index = DedupIndex(max_bits=8)
    fp = simhash(words(_text(7)))
    index.add("doc-a", "hash-a", "hash-a", fp)
    near = fp ^ 0b1011  # three bits off
    far = fp ^ ((1 << 64) - 1)
    assert index.near(near) == "doc-a"
    assert index.near(far) is None
    assert index.same_content("hash-a") == "doc-a"


def test_citizen_posts_match_by_content_only_for_the_same_author():
    assert content_key("h", "news", None) == "h"
    assert content_key("h", "citizen", "alice") != content_key("h", "citizen", "bob")
    assert content_key("h", "citizen", None) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("Wed, 31 Jan 2018 15:04:05 +0100", datetime(2018, 1, 31, 14, 4, 5)),
    ("2025-04-01T18:30:00+02:00", datetime(2025, 4, 1, 16, 30)),
    ("2025-04-01T10:00:00.000Z", datetime(2025, 4, 1, 10, 0)),
    (1542406176584, datetime(2018, 11, 16, 22, 9, 36, 584000)),
    ("1542406176", datetime(2018, 11, 16, 22, 9, 36)),
    ("not a date", None),
    ("1970-01-01", None),            # a placeholder, not a publication date
    ("2999-01-01", None),            # in the future
    ("", None),
])
def test_parse_date_gives_naive_utc(value, expected):
    assert parse_date(value) == expected


def test_state_key_strips_tracking_and_keeps_post_keys():
    assert state_key("https://News.example/a?utm_source=x&id=3#top") == "https://news.example/a?id=3"
    assert state_key("https://forum.example/t/1", "p2") == "https://forum.example/t/1#p2"


def test_extract_html_skips_boilerplate_and_empty_pages():
    html = ("<html><head><title>T</title></head><body><nav><a href='/'>Home</a></nav>"
            "<article><h1>Bus lanes</h1>" + "<p>" + _text(3, 120) + "</p></article>"
            "<footer>All rights reserved</footer></body></html>")
    doc = extract_html(html, "http://x/a.html")
    assert "All rights reserved" not in doc.text and _text(3, 120)[:50] in doc.text
    with pytest.raises(ExtractionError, match="empty page"):
        extract_html("   ")
    with pytest.raises(ExtractionError, match="no main text"):
        extract_html("<html><body><nav><a href='/'>Home</a></nav></body></html>")


def test_extract_pdf_reads_text_and_title_and_refuses_scans_and_junk():
    text = "Heat pump grants for older homes will double from April next year in the city."
    doc = extract_pdf(make_pdf("Heat pump grants", wrap(text, 40)))
    assert doc.title == "Heat pump grants"
    assert "grants for older homes" in doc.text.replace("\n", " ")
    with pytest.raises(ExtractionError, match="no extractable text"):
        extract_pdf(make_pdf("", []))
    with pytest.raises(ExtractionError, match="not a PDF"):
        extract_pdf(b"\x00\x01junk" * 100)
    with pytest.raises(ExtractionError, match="unreadable PDF"):
        extract_pdf(b"%PDF-1.4\n" + b"garbage" * 50)


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    assert html_to_text("<p>One</p><p>Two <b>bold</b></p><script>x=1</script>") == "One\nTwo bold"
    assert html_to_text("plain   text") == "plain text"


def test_feed_without_charset_is_decoded_by_detection():
    rss = ('<rss version="2.0"><channel><item><title>Как пережить новогоднюю ночь</title>'
           "<description>Наверное, единственное, во что сегодня можно верить.</description>"
           "</item></channel></rss>").encode("koi8-r")
    parsed, note = parse_feed_bytes(rss, "application/xml", "http://x/feed")
    assert parsed.entries[0].title == "Как пережить новогоднюю ночь"
    assert "decoded as koi8" in note


def test_source_settings_carry_politeness_and_limits():
    cfg = parse_config({
        "crawl": {"contact": "ops@city.example", "download_delay": 0.5, "retry_times": 5,
                  "max_page_bytes": 1000, "obey_robots": True},
        "sources": [{"name": "a", "type": "feed", "url": "http://x/f", "channel": "news"}],
    })
    settings = source_settings(cfg, cfg.sources[0])
    assert settings["USER_AGENT"] == user_agent(cfg.crawl)
    assert settings["USER_AGENT"].endswith("(ops@city.example)")
    assert settings["DOWNLOAD_DELAY"] == 0.5 and settings["RETRY_TIMES"] == 5
    assert settings["DOWNLOAD_MAXSIZE"] == 1000 and settings["ROBOTSTXT_OBEY"] is True
    assert 429 in settings["RETRY_HTTP_CODES"] and 304 in settings["HTTPERROR_ALLOWED_CODES"]


def test_document_items_never_show_author_or_text_in_their_repr():
    from crawlers.items import DocumentItem

    item = DocumentItem("forum", "citizen", "http://x/t/1", "call me on 0207 946 0123",
                        title="Bus lanes", author="Zebedee Quarrington")
    shown = repr(item)
    assert "Zebedee" not in shown and "0207" not in shown and "http://x/t/1" in shown
