"""What spiders yield: documents found, failures with their reason, index-page state.

Plain dataclasses (Scrapy handles them through itemadapter). A spider fills in
what it read; the pipelines add identity, privacy, dedup decisions and storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class DocumentItem:
    """One document as read from a page, feed entry, forum post or export row."""

    source: str
    channel: str
    url: str | None                  # where the text was read (after redirects)
    # Neither text nor author appear in the item's repr, which Scrapy logs on errors:
    # a raw author name or an unredacted e-mail must never reach a log.
    text: str = field(repr=False)
    title: str | None = field(default=None, repr=False)
    published_at: datetime | str | None = None
    author: str | None = field(default=None, repr=False)  # raw: hashed in PrivacyPipeline
    key: str = ""                     # distinguishes several documents at one URL (post id, row id)
    requested_url: str | None = None  # the URL as the index gave it (state key for the next run)
    etag: str | None = None
    last_modified: str | None = None
    marker: str | None = None         # change hint from the index, stored for the next run
    complete: bool = True             # False: built from a fallback (feed summary)
    thread_url: str | None = None
    thread_title: str | None = field(default=None, repr=False)
    post_number: int | None = None
    reply_to: int | None = None
    # Filled in by the pipelines.
    canonical_url: str | None = None
    state_key: str | None = None
    doc_id: str | None = None
    content_hash: str | None = None
    language: str | None = None
    author_hash: str | None = None
    simhash: int | None = None
    n_words: int = 0
    action: str = ""                  # new | update | carrier | unchanged
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ErrorItem:
    """Something that went wrong, with its reason; the crawl goes on."""

    source: str
    url: str | None
    reason: str
    broken_key: str | None = None     # a document URL that failed: counted in broken_urls
    marker: str | None = None         # the index's change hint for it


@dataclass
class CarriedItem:
    """An index (feed, sitemap, listing) lists a document already stored and unchanged.

    Nothing is fetched; the source is recorded as one more carrier of the document, so
    a story in two feeds has both as sources whichever feed the crawl reads first.
    """

    source: str
    doc_id: str
    url: str


@dataclass
class PageStateItem:
    """HTTP state of an index page (feed, sitemap, listing, forum page) for the next run."""

    source: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    marker: str | None = None
    # True: saved with the documents read from this page (a forum thread page: its posts
    # are all stored or recorded by then); False: only after a clean run of the source.
    with_documents: bool = False
