"""Citizen posts are redacted in the crawl's extraction workers, and a post whose
redaction fails is recorded, never stored unredacted."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from crawlers.extract import ExtractionError, ExtractorPool
from crawlers.items import DocumentItem, ErrorItem
from crawlers.pipelines import PrivacyPipeline

SALT = b"test-salt-in-workers"


def pipeline(pool) -> PrivacyPipeline:
    spider = SimpleNamespace(extractors=pool, run=SimpleNamespace(salt=SALT))
    return PrivacyPipeline(SimpleNamespace(spider=spider))


def post(text: str, channel: str = "citizen") -> DocumentItem:
    return DocumentItem(source="forum", channel=channel, url="http://127.0.0.1/t/1", text=text,
                        title="Write to jane.doe@example.org", author="Jane Doe",
                        thread_title="Call 040 123 4567 about the bins")


def test_a_worker_redacts_citizen_posts_loading_the_models_outside_the_post_time_limit():
    # Loading spaCy and Presidio takes seconds; it must not count against the post's limit.
    pool = ExtractorPool(1, timeout=3)
    try:
        item = asyncio.run(pipeline(pool).process_item(
            post("Mail me at jane.doe@example.org or ring +358 40 123 4567, neighbours.")))
        assert pool.started == 1  # it ran in the worker, not here
    finally:
        pool.close()
    assert isinstance(item, DocumentItem)
    assert "jane.doe@example.org" not in item.text and "<EMAIL>" in item.text
    assert "123 4567" not in item.text
    assert "jane.doe" not in item.title and "123 4567" not in item.thread_title
    assert item.author is None and item.author_hash and "Jane" not in item.author_hash


def test_a_failed_redaction_stores_nothing_and_says_why():
    class Broken:
        async def run(self, func, *args, needs=()):
            raise ExtractionError("the extraction worker died: EOFError")

    item = asyncio.run(pipeline(Broken()).process_item(post("Mail jane.doe@example.org")))
    assert isinstance(item, ErrorItem)
    assert item.reason == ("citizen post not stored: its redaction failed: "
                           "the extraction worker died: EOFError")
    assert "jane" not in repr(item).lower()


def test_news_is_not_sent_for_redaction():
    class Refuses:
        async def run(self, func, *args, needs=()):
            raise AssertionError("news text went to the redactor")

    item = asyncio.run(pipeline(Refuses()).process_item(
        post("The council met on Tuesday.", channel="news")))
    assert isinstance(item, DocumentItem) and item.text == "The council met on Tuesday."
