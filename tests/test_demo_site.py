"""The demo web: a valid RSS feed and article pages, sitemaps with HTML and real PDF papers,
and a Discourse-compatible forum API, served on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from datetime import date

import feedparser
import pytest
from pypdf import PdfReader

from radar.app.demo.corpus import generate
from radar.app.demo.site import DemoWeb


@pytest.fixture(scope="module")
def web():
    with DemoWeb(generate(seed=3, scale=0.1, today=date(2026, 6, 10))) as w:
        yield w


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_feed_is_valid_rss_with_dates_and_article_pages(web):
    status, headers, body = get(web.urls["riverton-gazette"] + "/feed.xml")
    assert status == 200 and "rss" in headers["Content-Type"]
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) >= 20
    entry = feed.entries[0]
    assert entry.published_parsed and entry.link.startswith(web.urls["riverton-gazette"])
    status, _, page = get(entry.link)
    html = page.decode()
    assert status == 200
    assert f'<meta property="article:published_time" content="{entry.published_parsed.tm_year}' in html
    assert "<article>" in html and entry.title in html


def test_syndicated_story_appears_on_two_outlets_with_the_same_text(web):
    story = next(a for a in web.corpus.articles if a.also_in)
    from radar.app.demo.pages import article_path

    _, _, original = get(web.urls[story.outlet] + article_path(story))
    _, _, copy = get(web.urls[story.also_in[0]] + article_path(story))
    assert story.paragraphs[0].split('"')[0][:40] in original.decode()
    assert b"This story first appeared in the" in copy


def test_sitemap_index_leads_to_html_and_pdf_papers_with_text(web):
    base = web.urls["communities-department"]
    _, _, robots = get(base + "/robots.txt")
    assert f"Sitemap: {base}/sitemap.xml" in robots.decode()
    _, _, index = get(base + "/sitemap.xml")
    children = re.findall(r"<loc>(.*?)</loc>", index.decode())
    assert children and b"<sitemapindex" in index
    locs: list[str] = []
    for child in children:
        _, _, body = get(child)
        assert body.count(b"<lastmod>") == body.count(b"<loc>")
        locs += re.findall(r"<loc>(.*?)</loc>", body.decode())
    council = get(web.urls["riverton-council"] + "/sitemap.xml")[2].decode()
    locs += re.findall(r"<loc>(.*?)</loc>", council)
    pdf = next(u for u in locs if u.endswith(".pdf"))
    html = next(u for u in locs if u.endswith(".html"))
    status, headers, data = get(pdf)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Recommendations" in text and len(text.split()) > 100
    assert reader.metadata.title and reader.metadata.creation_date.year >= 2024
    assert b'name="citation_publication_date"' in get(html)[2]


def test_discourse_api_pages_topics_and_serves_posts(web):
    base = web.urls["riverton-voice"]
    seen, page, url = [], 0, base + "/latest.json"
    while url:
        status, _, body = get(url)
        assert status == 200
        data = json.loads(body)
        topics = data["topic_list"]["topics"]
        assert all({"id", "title", "slug", "posts_count", "created_at", "bumped_at"} <= t.keys()
                   for t in topics)
        seen += [t["id"] for t in topics]
        more = data["topic_list"].get("more_topics_url")
        page += 1
        url = base + "/latest.json?" + more.split("?", 1)[1] if more else None
    assert page > 1 and len(seen) == len(set(seen)) == len(web.corpus.threads)
    topic = json.loads(get(f"{base}/t/{seen[0]}.json")[2])
    post = topic["post_stream"]["posts"][0]
    assert {"username", "created_at", "cooked", "post_number", "id"} <= post.keys()
    assert post["cooked"].startswith("<p>") and post["created_at"].endswith("Z")
    slugged = json.loads(get(f"{base}/t/{topic['slug']}/{seen[0]}.json")[2])
    assert slugged["id"] == topic["id"]
    assert get(f"{base}/t/999999.json")[0] == 404


def test_unchanged_page_answers_304_to_its_etag(web):
    url = web.urls["northshire-herald"] + "/feed.xml"
    _, headers, _ = get(url)
    status, _, body = get(url, {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
