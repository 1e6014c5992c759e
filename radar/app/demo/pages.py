"""Rendering the demo corpus as the web it pretends to be: HTML, RSS, sitemaps, PDF, JSON.

Pure functions from corpus objects to bytes; `radar.app.demo.site` serves them.
Dates travel the way they do on real sites: RSS `pubDate`, article meta tags
and `<time>`, sitemap `lastmod`, the PDF's creation date, Discourse
`created_at`, so the crawl reads the real timeline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from radar.app.demo.corpus import NEWS_OUTLETS, POLICY_SITES, Article, Paper, Thread, hash_index

ROBOTS = "User-agent: *\nDisallow: /private/\nAllow: /\n"
POSTS_PER_PAGE = 20  # Discourse sends the first 20 posts of a topic inline
TOPICS_PER_PAGE = 30  # Discourse's /latest.json page size


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with a Z, as Discourse and article meta tags write it."""
    return ts.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc822(ts: datetime) -> str:
    """RSS pubDate format."""
    return format_datetime(ts.replace(tzinfo=UTC))


def article_path(a: Article) -> str:
    """Where an article lives on its outlet's site."""
    return f"/{a.published:%Y/%m}/{a.slug}.html"


def _page(title: str, site_name: str, body: str, head: str = "") -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | {escape(site_name)}</title>
{head}</head>
<body><header><nav><a href="/">{escape(site_name)}</a> | <a href="/">Latest</a> |
<a href="/private/admin">Staff login</a></nav></header>
<main>{body}</main>
<footer><p>&copy; {escape(site_name)}. All rights reserved. Cookie settings. Privacy notice.
Contact the newsroom.</p></footer></body></html>""".encode()


def article_html(a: Article, outlet: str, base: str) -> bytes:
    """An article page with meta tags, a byline, a <time> and the story in <article>."""
    name = NEWS_OUTLETS[outlet]
    paras = "".join(f"<p>{escape(p)}</p>\n" for p in a.paragraphs)
    note = ""
    if outlet != a.outlet:
        note = f"<p>This story first appeared in the {escape(NEWS_OUTLETS[a.outlet])}.</p>"
    head = (
        f'<meta property="og:title" content="{escape(a.title)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="article:published_time" content="{iso(a.published)}">\n'
        f'<meta name="author" content="{escape(a.author)}">\n'
        f'<link rel="canonical" href="{base}{article_path(a)}">\n'
    )
    body = (
        f"<article><h1>{escape(a.title)}</h1>\n"
        f'<p class="byline">By {escape(a.author)}, <time datetime="{iso(a.published)}">'
        f"{a.published:%d %B %Y}</time></p>\n{paras}{note}</article>"
        '<aside><h2>Most read</h2><ul><li>Weather warning for the weekend</li>'
        "<li>Match report: City win again</li></ul></aside>"
    )
    return _page(a.title, name, body, head)


def outlet_home(articles: list[Article], outlet: str) -> bytes:
    """The outlet's front page: the latest stories."""
    items = "".join(
        f'<li><a href="{article_path(a)}">{escape(a.title)}</a></li>' for a in articles[-30:][::-1]
    )
    return _page("Latest news", NEWS_OUTLETS[outlet], f"<h1>Latest news</h1><ul>{items}</ul>")


def rss(articles: list[Article], outlet: str, base: str) -> bytes:
    """An RSS 2.0 feed of all the outlet's stories, newest first."""
    items = []
    for a in sorted(articles, key=lambda x: x.published, reverse=True):
        link = f"{base}{article_path(a)}"
        items.append(
            f"<item><title>{xml_escape(a.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid><pubDate>{rfc822(a.published)}</pubDate>'
            f"<description>{xml_escape(a.paragraphs[0])}</description></item>"
        )
    now = rfc822(max((a.published for a in articles), default=datetime(2000, 1, 1)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{xml_escape(NEWS_OUTLETS[outlet])}</title><link>{base}/</link>"
        f"<description>News from {xml_escape(NEWS_OUTLETS[outlet])}</description>"
        f"<lastBuildDate>{now}</lastBuildDate>{''.join(items)}</channel></rss>"
    ).encode()


def paper_path(p: Paper) -> str:
    """Where a policy paper lives on its site."""
    return f"/papers/{p.slug}.{p.fmt}"


def paper_html(p: Paper) -> bytes:
    """A policy paper as an HTML page with publication-date meta tags."""
    sections = "".join(f"<h2>{escape(h)}</h2>\n<p>{escape(t)}</p>\n" for h, t in p.sections)
    head = (
        f'<meta name="citation_publication_date" content="{p.published:%Y-%m-%d}">\n'
        f'<meta name="DC.date.issued" content="{p.published:%Y-%m-%d}">\n'
        f'<meta property="article:published_time" content="{iso(p.published)}">\n'
    )
    body = (
        f'<article><h1>{escape(p.title)}</h1><p class="meta">Published '
        f'<time datetime="{iso(p.published)}">{p.published:%d %B %Y}</time></p>\n{sections}</article>'
    )
    return _page(p.title, POLICY_SITES[p.site], body, head)


def paper_pdf(p: Paper) -> bytes:
    """A policy paper as a real PDF with a text layer, title and creation date."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(_latin1(p.title))
    pdf.set_author(_latin1(POLICY_SITES[p.site]))
    pdf.set_creation_date(p.published.replace(tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(p.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin1(f"{POLICY_SITES[p.site]}, {p.published:%d %B %Y}"),
             new_x="LMARGIN", new_y="NEXT")
    for heading, text in p.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The PDF core fonts cover Latin-1 only.
    return text.encode("latin-1", "replace").decode("latin-1")


def urlset(papers: list[Paper], base: str) -> bytes:
    """A sitemap <urlset> of papers with their lastmod dates."""
    rows = "".join(
        f"<url><loc>{base}{paper_path(p)}</loc><lastmod>{p.published:%Y-%m-%d}</lastmod></url>"
        for p in papers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
    ).encode()


def sitemap_index(years: list[int], base: str) -> bytes:
    """A sitemap index pointing at one sitemap per year."""
    rows = "".join(f"<sitemap><loc>{base}/sitemaps/{y}.xml</loc></sitemap>" for y in years)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    ).encode()


def papers_home(papers: list[Paper], site: str) -> bytes:
    """The publications page listing every paper."""
    rows = "".join(
        f'<li><a href="{paper_path(p)}">{escape(p.title)}</a> ({p.fmt.upper()}, '
        f"{p.published:%d %b %Y})</li>" for p in papers[::-1]
    )
    return _page("Publications", POLICY_SITES[site], f"<h1>Publications</h1><ul>{rows}</ul>")


# --- Discourse JSON (the shapes of the real API, trimmed to what clients read)

def _user(username: str) -> dict:
    return {"id": _uid(username), "username": username, "name": "",
            "avatar_template": f"/user_avatar/localhost/{username}/{{size}}/1.png"}


def _uid(username: str) -> int:
    return 1 + hash_index(username, 10_000_000)


def latest_json(threads: list[Thread], page: int) -> bytes:
    """`/latest.json?page=N`: topics by last activity, 30 a page, with more_topics_url."""
    ordered = sorted(threads, key=lambda t: t.bumped, reverse=True)
    chunk = ordered[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    users = {p.username for t in chunk for p in t.posts[:1]}
    topics = [
        {
            "id": t.topic_id, "title": t.title, "fancy_title": escape(t.title), "slug": t.slug,
            "posts_count": len(t.posts), "reply_count": len(t.posts) - 1,
            "highest_post_number": len(t.posts), "created_at": iso(t.created),
            "last_posted_at": iso(t.bumped), "bumped": True, "bumped_at": iso(t.bumped),
            "archetype": "regular", "unseen": False, "pinned": False, "visible": True,
            "closed": False, "archived": False, "views": 20 + 7 * len(t.posts),
            "like_count": len(t.posts) // 2, "category_id": 1,
            "posters": [{"extras": None, "description": "Original Poster",
                         "user_id": _uid(t.posts[0].username)}],
        }
        for t in chunk
    ]
    topic_list: dict = {"can_create_topic": False, "per_page": TOPICS_PER_PAGE, "topics": topics}
    if (page + 1) * TOPICS_PER_PAGE < len(ordered):
        topic_list["more_topics_url"] = f"/latest?no_definitions=true&page={page + 1}"
    return json.dumps({"users": [_user(u) for u in sorted(users)],
                       "primary_groups": [], "topic_list": topic_list}).encode()


def _post(t: Thread, number: int) -> dict:
    p = t.posts[number - 1]
    return {
        "id": p.post_id, "name": "", "username": p.username,
        "avatar_template": f"/user_avatar/localhost/{p.username}/{{size}}/1.png",
        "created_at": iso(p.published), "updated_at": iso(p.published),
        "cooked": f"<p>{escape(p.text)}</p>", "post_number": number, "post_type": 1,
        "reply_count": 0, "reply_to_post_number": None, "quote_count": 0,
        "topic_id": t.topic_id, "topic_slug": t.slug, "user_id": _uid(p.username),
        "display_username": "", "yours": False, "can_edit": False, "moderator": False,
        "admin": False, "staff": False, "hidden": False, "wiki": False,
    }


def topic_json(t: Thread) -> bytes:
    """`/t/{id}.json`: the topic with the first 20 posts inline and the full post stream."""
    posts = [_post(t, n) for n in range(1, min(len(t.posts), POSTS_PER_PAGE) + 1)]
    return json.dumps({
        "id": t.topic_id, "title": t.title, "fancy_title": escape(t.title), "slug": t.slug,
        "posts_count": len(t.posts), "created_at": iso(t.created),
        "last_posted_at": iso(t.bumped), "archetype": "regular", "visible": True,
        "closed": False, "archived": False, "category_id": 1, "word_count": sum(
            len(p.text.split()) for p in t.posts),
        "post_stream": {"posts": posts, "stream": [p.post_id for p in t.posts]},
        "details": {"created_by": _user(t.posts[0].username),
                    "participants": [_user(u) for u in sorted({p.username for p in t.posts})]},
    }).encode()


def posts_json(t: Thread, post_ids: list[int]) -> bytes:
    """`/t/{id}/posts.json?post_ids[]=...`: further posts of a long topic."""
    wanted = set(post_ids)
    posts = [_post(t, n) for n, p in enumerate(t.posts, start=1) if p.post_id in wanted]
    return json.dumps({"post_stream": {"posts": posts}, "id": t.topic_id}).encode()
