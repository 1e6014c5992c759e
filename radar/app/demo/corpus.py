"""The demo corpus: a seeded, generated public-sector web over 20 months.

What it contains (all counts at `scale=1.0`; `scale` multiplies them):

- news: 60 articles a month across three outlets (a local paper, a regional
  paper, a sector trade title); about one in eight stories is syndicated to a
  second outlet, so the radar must count it once with two sources;
- policy: 7 papers a month from the city council and a national department,
  half as HTML pages, half as PDFs;
- citizen: a Discourse forum with 45 generated posts a month plus about 35 real
  comments a month from Polis deliberations (`radar.app.demo.comments`), re-dated
  evenly over the timeline, grouped in threads by theme or service area, each
  post by a pseudonymous username.

Background themes (`radar.app.demo.background`, three per service area) run at a
steady volume; planted themes (`radar.app.demo.planted`) are added on top along
their onset curves per channel, so some rise in citizen posts first and reach
policy papers months later. Texts come from a template grammar
(`radar.app.demo.grammar`), so every document is a varied paragraph, not a repeated
sentence. The same seed and `today` give exactly the same corpus.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from radar.app.demo.background import BACKGROUND
from radar.app.demo.comments import Comment, load_comments
from radar.app.demo.grammar import fill, pick
from radar.app.demo.planted import PLANTED
from radar.app.demo.texts import (
    CLOSERS,
    NEWS_CLOSING,
    OPENERS,
    POLICY_FRAMES,
    POLICY_SECTIONS,
    POLICY_TITLES,
    QUOTES,
    REAL_THREAD_TITLES,
    usernames,
)
from radar.app.demo.themes import Theme

MONTHS = 20
NEWS_PER_MONTH = 60
PAPERS_PER_MONTH = 7
POSTS_PER_MONTH = 45
REAL_PER_MONTH = 35
SYNDICATED_SHARE = 0.12
MAX_POSTS_PER_THREAD = 20

NEWS_OUTLETS = {
    "riverton-gazette": "Riverton Gazette",
    "northshire-herald": "Northshire Herald",
    "public-service-today": "Public Service Today",
}
POLICY_SITES = {
    "riverton-council": "Riverton City Council: committee papers",
    "communities-department": "Department for Communities: publications",
}
FORUM = "riverton-voice"
FORUM_TITLE = "Riverton Voice: the residents' forum"


@dataclass
class Article:
    """A news story, published by `outlet` and possibly syndicated to `also_in`."""

    outlet: str
    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    theme: str
    author: str
    also_in: list[str] = field(default_factory=list)


@dataclass
class Paper:
    """A policy paper: HTML page or PDF, as (heading, paragraph) sections."""

    site: str
    slug: str
    title: str
    sections: list[tuple[str, str]]
    published: datetime
    theme: str
    fmt: str  # html | pdf


@dataclass
class Post:
    """A forum post: `theme` is a theme key, or `real:<area>` for a real comment."""

    post_id: int
    username: str
    text: str
    published: datetime
    theme: str


@dataclass
class Thread:
    """A forum topic and its posts, oldest first."""

    topic_id: int
    title: str
    slug: str
    posts: list[Post]

    @property
    def created(self) -> datetime:
        """When the first post was made."""
        return self.posts[0].published

    @property
    def bumped(self) -> datetime:
        """When the last post was made (Discourse's `bumped_at`)."""
        return self.posts[-1].published


@dataclass
class Corpus:
    """The whole demo web's content."""

    seed: int
    scale: float
    months: list[date]
    articles: list[Article]
    papers: list[Paper]
    threads: list[Thread]

    def stats(self) -> dict[str, int]:
        """Counts per kind of document (syndicated copies counted once)."""
        posts = [p for t in self.threads for p in t.posts]
        return {
            "months": len(self.months),
            "articles": len(self.articles),
            "syndicated_copies": sum(len(a.also_in) for a in self.articles),
            "papers": len(self.papers),
            "pdf_papers": sum(p.fmt == "pdf" for p in self.papers),
            "threads": len(self.threads),
            "posts": len(posts),
            "real_posts": sum(p.theme.startswith("real:") for p in posts),
            "authors": len({p.username for p in posts}),
        }

    def theme_counts(self, theme: str) -> dict[str, list[int]]:
        """Documents per month and channel for one theme key (for checks and docs)."""
        idx = {m: i for i, m in enumerate(self.months)}
        out = {c: [0] * len(self.months) for c in ("news", "policy", "citizen")}
        for a in self.articles:
            if a.theme == theme:
                out["news"][idx[_month(a.published)]] += 1
        for p in self.papers:
            if p.theme == theme:
                out["policy"][idx[_month(p.published)]] += 1
        for t in self.threads:
            for p in t.posts:
                if p.theme == theme:
                    out["citizen"][idx[_month(p.published)]] += 1
        return out


def _month(ts: datetime) -> date:
    return date(ts.year, ts.month, 1)


def month_starts(today: date, n: int = MONTHS) -> list[date]:
    """The first days of the n calendar months ending with today's month."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def slugify(text: str, limit: int = 60) -> str:
    """A URL slug of the text."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-")


class _Clock:
    """Random timestamps inside a month, never after `now` (the current month is partial)."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now

    def within(self, month: date) -> datetime:
        start = datetime(month.year, month.month, 1)
        nxt = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
        end = min(nxt, self.now)
        span = max(int((end - start).total_seconds()) - 1, 1)
        return start + timedelta(seconds=self.rng.randrange(span))


def generate(seed: int = 2026, scale: float = 1.0,
             today: date | datetime | None = None) -> Corpus:
    """Generate the demo corpus; the same seed, scale and today give the same corpus.

    `today` is the end of the timeline (naive UTC datetime, or a date meaning its
    last second); nothing is dated after it. Default: now.
    """
    rng = random.Random(seed)
    if today is None:
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    elif isinstance(today, datetime):
        now = today
    else:
        now = datetime(today.year, today.month, today.day, 23, 59, 59)
    months = month_starts(now.date())
    clock = _Clock(rng, now)
    articles, papers, posts = [], [], []
    names = usernames(rng, 600)
    for i, month in enumerate(months):
        back = len(months) - 1 - i
        for theme in _allocate("news", NEWS_PER_MONTH, scale, back, rng):
            articles.append(_article(theme, clock.within(month), rng))
        for theme in _allocate("policy", PAPERS_PER_MONTH, scale, back, rng):
            papers.append(_paper(theme, clock.within(month), rng, len(papers)))
        for theme in _allocate("citizen", POSTS_PER_MONTH, scale, back, rng):
            author = "tram_again_1962" if theme.single_author else rng.choice(names)
            posts.append(Post(0, author, _post_text(theme, rng), clock.within(month), theme.key))
    posts += _real_posts(load_comments(), months, scale, clock, rng)
    _syndicate(articles, rng)
    articles.sort(key=lambda a: a.published)
    papers.sort(key=lambda p: p.published)
    return Corpus(seed, scale, months, articles, papers, _threads(posts, months, rng))


def _allocate(channel: str, per_month: int, scale: float, back: int,
              rng: random.Random) -> list[Theme]:
    """Themes of one month's items: steady background plus planted themes on their curves."""
    base = max(1, round(per_month * scale))
    pool = [t for t in BACKGROUND if (t.citizen if channel == "citizen" else t.facts)]
    out = [rng.choice(pool) for _ in range(base)]
    for theme in PLANTED:
        onset = theme.onsets.get(channel)
        if onset is None:
            continue
        expected = onset.weight(back) * per_month * scale
        out += [theme] * int(expected + rng.random())
    return out


def _article(theme: Theme, published: datetime, rng: random.Random) -> Article:
    facts = pick(theme.facts, 4, rng)
    title = fill(rng.choice(theme.titles), rng)
    lead = " ".join(fill(f, rng) for f in facts[:2])
    middle = " ".join([fill(rng.choice(QUOTES).replace("{label}", theme.label), rng),
                       *(fill(f, rng) for f in facts[2:3])])
    closing = " ".join(fill(t, rng) for t in pick(NEWS_CLOSING, 2, rng) + facts[3:])
    outlet = rng.choice(list(NEWS_OUTLETS))
    slug = f"{slugify(title)}-{rng.randrange(16**6):06x}"
    reporter = rng.choice(["Ana Ruiz", "Ben Carter", "Chloe Adeyemi", "Dev Patel", "Ella Brooks",
                           "Finn O'Neill", "Greta Sand", "Hugo Lam"])
    return Article(outlet, slug, title, [lead, middle, closing], published, theme.key, reporter)


def _paper(theme: Theme, published: datetime, rng: random.Random, n: int) -> Paper:
    titles = theme.policy_titles or [t.replace("{label}", theme.label) for t in POLICY_TITLES]
    title = fill(rng.choice(titles).replace("{label}", theme.label), rng)
    title = title[:1].upper() + title[1:]
    facts = list(theme.facts)
    rng.shuffle(facts)
    sections = []
    for heading in POLICY_SECTIONS:
        # Each theme sentence at most once per paper; generic frames fill the rest.
        chosen = [facts.pop() for _ in range(min(2, len(facts)))]
        frames = pick(POLICY_FRAMES[heading], 3 - len(chosen), rng)
        body = [fill(f, rng) for f in chosen + frames]
        rng.shuffle(body)
        sections.append((heading, " ".join(body)))
    site = "communities-department" if rng.random() < 0.35 else "riverton-council"
    fmt = "pdf" if n % 2 else "html"
    return Paper(site, f"{slugify(title)}-{n:04d}", title, sections, published, theme.key, fmt)


def _post_text(theme: Theme, rng: random.Random) -> str:
    lines = pick(theme.citizen, rng.choice([1, 2, 2]), rng)
    parts = [fill(x, rng) for x in lines]
    if rng.random() < 0.6:
        parts.insert(0, fill(rng.choice(OPENERS), rng))
    if rng.random() < 0.5:
        parts.append(fill(rng.choice(CLOSERS), rng))
    return " ".join(parts)


def _real_posts(comments: list[Comment], months: list[date], scale: float, clock: _Clock,
                rng: random.Random) -> list[Post]:
    """Real comments re-dated evenly over the timeline, authors kept distinct per conversation."""
    n = min(len(comments), max(1, round(REAL_PER_MONTH * scale)) * len(months))
    chosen = rng.sample(comments, n)
    handles = usernames(random.Random(f"polis-{len(comments)}"), 4000)
    out = []
    for k, c in enumerate(chosen):
        month = months[k * len(months) // n]
        author = handles[hash_index(f"{c.conversation}/{c.author_id}", len(handles))]
        out.append(Post(0, author, c.text, clock.within(month), f"real:{c.area}"))
    return out


def hash_index(key: str, n: int) -> int:
    """A stable index in range(n) for a key (Python's hash() is salted per process)."""
    import hashlib

    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % n


def _syndicate(articles: list[Article], rng: random.Random) -> None:
    for a in articles:
        if rng.random() < SYNDICATED_SHARE:
            a.also_in = [rng.choice([o for o in NEWS_OUTLETS if o != a.outlet])]


def _threads(posts: list[Post], months: list[date], rng: random.Random) -> list[Thread]:
    """Group posts by theme and month into threads of at most MAX_POSTS_PER_THREAD posts."""
    themes = {t.key: t for t in BACKGROUND + PLANTED}
    groups: dict[tuple[str, date], list[Post]] = defaultdict(list)
    for p in posts:
        # Planted themes get their own threads; everything else meets in one
        # discussion thread per service area and month, as on a real forum.
        theme = themes.get(p.theme)
        key = p.theme if theme and theme.planted else f"real:{_area_of(p.theme, themes)}"
        groups[(key, _month(p.published))].append(p)
    threads: list[Thread] = []
    for (key, _m), group in sorted(groups.items(), key=lambda kv: min(p.published for p in kv[1])):
        group.sort(key=lambda p: p.published)
        for start in range(0, len(group), MAX_POSTS_PER_THREAD):
            chunk = group[start:start + MAX_POSTS_PER_THREAD]
            title = _thread_title(key, themes, rng)
            threads.append(Thread(0, title, slugify(title), chunk))
    threads.sort(key=lambda t: t.created)
    post_id = 1
    for i, t in enumerate(threads, start=1):
        t.topic_id = i
        for p in t.posts:
            p.post_id = post_id
            post_id += 1
    return threads


def _area_of(key: str, themes: dict[str, Theme]) -> str:
    return key.split(":", 1)[1] if key.startswith("real:") else themes[key].area


def _thread_title(key: str, themes: dict[str, Theme], rng: random.Random) -> str:
    if key.startswith("real:"):
        # Neutral titles: Discourse clients prepend the title to each post, and an
        # area's name in every title would teach the topic model the taxonomy.
        return fill(rng.choice(REAL_THREAD_TITLES), rng)
    theme = themes[key]
    if theme.titles:
        return fill(rng.choice(theme.titles), rng)
    return fill(f"[About|On|Talking about] {theme.label}", rng)
