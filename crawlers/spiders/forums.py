"""`forum` sources: citizen forums, every post a document of channel `citizen`.

Discourse (`format = "discourse"`, the default): `/latest.json` pages of topics
(`more_topics_url`, up to `max_depth` further pages), `/t/{id}.json` for each
new or changed topic, `/t/{id}/posts.json?post_ids[]=...` for posts beyond the
first chunk. A topic whose last post and post count are unchanged is not
fetched again; a post already stored is not stored again unless edited.

Generic HTML (`format = "html"`): CSS selectors in the source's `selectors`
table: `thread` (links to threads on the index), `post` (one post), `body`,
`author`, `date` (a `datetime` attribute or text), optional `title`, `next`.

Authors reach the pipelines as raw names only to be hashed there at once.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from scrapy import Request
from scrapy.http import TextResponse

from crawlers.extract import html_to_text
from crawlers.items import DocumentItem, PageStateItem
from crawlers.known import state_key
from crawlers.spiders.base import SourceSpider, describe_failure
from radar.core.config import ConfigError
from radar.core.privacy import quote_markup

CHUNK = 20  # Discourse returns at most 20 posts per request


class ForumSpider(SourceSpider):
    """A Discourse forum through its JSON API, or HTML thread pages by CSS selectors."""

    name = "forum"
    source_type = "forum"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        src = self.source_cfg
        self.format = (src.format or ("html" if src.selectors else "discourse")).lower()
        if self.format not in ("discourse", "html"):
            raise ConfigError(f"source {src.name!r}: forum format must be discourse or html")
        if self.format == "html":
            missing = [k for k in ("thread", "post", "body") if not src.selectors.get(k)]
            if missing:
                raise ConfigError(f"source {src.name!r}: an html forum needs selectors "
                                  f"{', '.join(missing)}")
        self.base = src.url.rstrip("/")
        for suffix in ("/latest.json", "/latest"):
            if self.base.endswith(suffix):
                self.base = self.base[: -len(suffix)]

    async def start(self):
        if self.format == "discourse":
            yield Request(f"{self.base}/latest.json", callback=self.parse_latest,
                          errback=self.root_failed, meta={"hops": 0}, dont_filter=True)
        else:
            yield Request(self.source_cfg.url, callback=self.parse_index,
                          errback=self.root_failed, meta={"hops": 0}, dont_filter=True)

    def root_failed(self, failure):
        reason = describe_failure(failure, self.settings)
        self.run.fatal = f"forum unavailable: {reason}"
        yield self.error(failure.request.url, self.run.fatal)

    # -- Discourse ------------------------------------------------------------------------

    def _json(self, response):
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from exc

    def parse_latest(self, response):
        self.fetched(response)
        root = response.meta.get("hops", 0) == 0
        try:
            topics = self._json(response)["topic_list"]
            rows = list(topics["topics"])
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"not a Discourse topic list: {exc}"
            if root:
                self.run.fatal = reason
            yield self.error(response.url, reason)
            return
        for topic in rows:
            request = self._topic_request(topic)
            if request is not None:
                yield request
        more = topics.get("more_topics_url")
        hops = response.meta.get("hops", 0)
        if more and hops < self.max_depth:
            url = response.urljoin(_as_json(more))
            if self.allowed(url):
                yield Request(url, callback=self.parse_latest, errback=self.failed,
                              meta={"hops": hops + 1})

    def _topic_request(self, topic: dict):
        try:
            topic_id = int(topic["id"])
        except (KeyError, TypeError, ValueError):
            return None
        marker = f"{topic.get('last_posted_at')}|{topic.get('posts_count')}"
        key = state_key(f"{self.base}/t/{topic_id}")
        st = self.run.known.urls.get(key)
        if st is not None and st.marker == marker:
            return None  # no new or edited posts since the last run
        if not self.take_page():
            return None
        return Request(f"{self.base}/t/{topic_id}.json", callback=self.parse_topic,
                       errback=self.failed, cb_kwargs={"key": key, "marker": marker})

    def parse_topic(self, response, key: str, marker: str):
        self.fetched(response)
        try:
            data = self._json(response)
            stream = data["post_stream"]
            posts = list(stream.get("posts", []))
        except (ValueError, KeyError, TypeError) as exc:
            yield self.error(response.url, f"not a Discourse topic: {exc}")
            return
        topic = {"id": data.get("id"), "slug": data.get("slug") or "topic",
                 "title": data.get("title")}
        have = {p.get("id") for p in posts}
        missing = [pid for pid in stream.get("stream", []) if pid not in have]
        for post in posts:
            item = self._post_item(topic, post)
            if item is not None:
                yield item
        for i in range(0, len(missing), CHUNK):
            query = urlencode([("post_ids[]", pid) for pid in missing[i : i + CHUNK]])
            yield Request(f"{self.base}/t/{topic['id']}/posts.json?{query}",
                          callback=self.parse_posts, errback=self.failed,
                          cb_kwargs={"topic": topic})
        yield PageStateItem(self.source_cfg.name, key, marker=marker)

    def parse_posts(self, response, topic: dict):
        self.fetched(response)
        try:
            posts = self._json(response)["post_stream"]["posts"]
        except (ValueError, KeyError, TypeError) as exc:
            yield self.error(response.url, f"not a Discourse post list: {exc}")
            return
        for post in posts:
            item = self._post_item(topic, post)
            if item is not None:
                yield item

    def _post_item(self, topic: dict, post: dict) -> DocumentItem | None:
        # Moderator notes, "closed" notices and whispers are not citizen voices.
        if post.get("post_type", 1) != 1 or post.get("hidden") or post.get("deleted_at"):
            return None
        number = post.get("post_number")
        thread_url = f"{self.base}/t/{topic['slug']}/{topic['id']}"
        url = f"{thread_url}/{number}"
        marker = post.get("updated_at")
        if self.run.known.is_done(state_key(url), marker):
            return None
        # Quote titles become [quote="name"] markup, which the privacy pipeline pseudonymises.
        text = html_to_text(quote_markup(post.get("cooked")) or post.get("raw") or "")
        return DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel, url=url, text=text,
            title=topic["title"], published_at=post.get("created_at"),
            author=post.get("username") or post.get("name"), marker=marker,
            thread_url=thread_url, thread_title=topic["title"], post_number=number,
            reply_to=post.get("reply_to_post_number"),
        )

    # -- generic HTML ---------------------------------------------------------------------

    def parse_index(self, response):
        self.fetched(response)
        if not isinstance(response, TextResponse):
            if response.meta.get("hops", 0) == 0:
                self.run.fatal = "forum index is not HTML"
            yield self.error(response.url, "forum index is not HTML")
            return
        sel = self.source_cfg.selectors
        for node in response.css(sel["thread"]):
            href = (node.xpath("@href").get() or node.css("a::attr(href)").get() or "").strip()
            url = response.urljoin(href) if href else ""
            if url and self.allowed(url) and self.take_page():
                yield self._thread_request(url)
        hops = response.meta.get("hops", 0)
        next_href = response.css(sel.get("next") or "a[rel~=next]").xpath("@href").get()
        if next_href and hops < self.max_depth:
            url = response.urljoin(next_href)
            if self.allowed(url):
                yield Request(url, callback=self.parse_index, errback=self.failed,
                              meta={"hops": hops + 1})

    def _thread_request(self, url: str, thread_url: str | None = None, start: int = 0):
        """A thread page, asked conditionally: unchanged since the last clean run, it
        answers 304 and is not downloaded again."""
        kwargs = {"thread_url": thread_url, "start": start} if thread_url else {}
        return Request(url, callback=self.parse_thread, errback=self.failed, cb_kwargs=kwargs,
                       meta={"conditional": True})

    def parse_thread(self, response, thread_url: str | None = None, start: int = 0):
        self.fetched(response)
        if response.status == 304:
            # Unchanged page; new posts of a long thread may be on its next page, which the
            # last run remembered (the page's marker), so go on there, conditionally too.
            st = self.run.known.urls.get(state_key(response.url) or "")
            page = st.marker.split(" ", 1) if st is not None and st.marker else None
            if page and len(page) == 2 and self.allowed(page[1]) and self.take_page():
                number, url = page
                yield self._thread_request(url, thread_url or response.url, int(number))
            return
        if not isinstance(response, TextResponse):
            yield self.error(response.url, "thread page is not HTML")
            return
        sel = self.source_cfg.selectors
        thread_url = thread_url or response.url
        title = html_to_text(response.css(sel.get("title") or "h1").get() or "") or None
        number = start
        for node in response.css(sel["post"]):
            number += 1
            text = html_to_text(quote_markup(node.css(sel["body"]).get()) or "")
            if not text:
                yield self.error(response.url, f"post {number} has no text (selector "
                                 f"{sel['body']!r})")
                continue
            post_id = node.attrib.get("id") or node.attrib.get("data-post-id") or str(number)
            author = " ".join(node.css(sel["author"]).css("::text").getall()).strip() \
                if sel.get("author") else None
            date = None
            if sel.get("date"):
                dnode = node.css(sel["date"])
                date = dnode.attrib.get("datetime") or " ".join(dnode.css("::text").getall())
            url = f"{thread_url}#{post_id}"
            if self.run.known.is_done(state_key(thread_url, post_id)):
                continue
            yield DocumentItem(
                source=self.source_cfg.name, channel=self.source_cfg.channel, url=url,
                key=post_id, text=text, title=title, published_at=date or None,
                author=author or None, thread_url=thread_url, thread_title=title,
                post_number=number,
            )
        next_href = response.css(sel.get("next") or "a[rel~=next]").xpath("@href").get()
        next_url = response.urljoin(next_href) if next_href else None
        # Remember the page's validators and where the thread goes on ("<posts so far> <url>").
        state = self.index_state(response)
        state.marker = f"{number} {next_url}" if next_url else None
        state.with_documents = True
        yield state
        if next_url and self.allowed(next_url) and self.take_page():
            yield self._thread_request(next_url, thread_url, number)


def _as_json(path: str) -> str:
    """Discourse's more_topics_url points at the HTML route; ask for its JSON."""
    parts = urlsplit(path)
    if parts.path.endswith(".json"):
        return path
    return parts._replace(path=parts.path + ".json").geturl()
