"""What the warehouse already knows, loaded once per crawl process.

The crawl state (per-URL ETag, Last-Modified, change marker, document id) makes
crawls incremental; the dedup index (content hashes, SimHash fingerprints)
recognises a story already stored under another URL. Both are read once per
process and shared by every spider in it: the spiders run in one reactor
thread, so a decision made for one source is seen at once by the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crawlers.dedup import DedupIndex, content_key, to_unsigned
from radar.core import warehouse
from radar.core.documents import canonical_url


@dataclass
class UrlState:
    """What a URL looked like when last fetched."""

    etag: str | None = None
    last_modified: str | None = None
    marker: str | None = None
    content_hash: str | None = None
    doc_id: str | None = None
    complete: bool = True


@dataclass
class Broken:
    """A document URL whose fetches failed (broken_urls)."""

    failures: int
    first_failed: datetime
    retry_after: datetime | None = None
    gave_up: bool = False
    marker: str | None = None


@dataclass
class Known:
    """The warehouse's crawl state and dedup index, updated as the run stores documents."""

    urls: dict[str, UrlState] = field(default_factory=dict)
    index: DedupIndex = field(default_factory=DedupIndex)
    broken: dict[str, Broken] = field(default_factory=dict)

    def held_back(self, key: str | None, marker: str | None, now: datetime) -> str:
        """Why a document URL is not fetched this run ("" = fetch it): it failed before and
        waits out its backoff, or the crawler gave up on it. A changed index marker (the
        entry or sitemap says the page changed) tries it again at once."""
        b = self.broken.get(key or "")
        if b is None or (marker is not None and marker != b.marker):
            return ""
        if b.gave_up:
            return f"given up after {b.failures} failed fetches"
        if b.retry_after is not None and now < b.retry_after:
            return f"failed {b.failures} times; next try after {b.retry_after:%Y-%m-%d %H:%M}"
        return ""

    def is_done(self, key: str, marker: str | None = None) -> bool:
        """Whether a document URL needs no fetch: stored completely, and unchanged per the index.

        `marker` is the index's change hint (sitemap lastmod, feed entry date,
        topic's last post); a different hint from the stored one means "changed".
        """
        st = self.urls.get(key)
        if st is None or not st.complete or not st.doc_id:
            return False
        return marker is None or marker == st.marker


_CACHE: dict[tuple[Path, int], Known] = {}


def known_for(warehouse_path: Path, near_bits: int) -> Known:
    """The process-wide `Known` for a warehouse, loaded on first use."""
    key = (Path(warehouse_path).resolve(), near_bits)
    if key not in _CACHE:
        _CACHE[key] = load_known(warehouse_path, near_bits)
    return _CACHE[key]


def load_known(warehouse_path: Path, near_bits: int) -> Known:
    """Read crawl state, content hashes and fingerprints from the warehouse."""
    known = Known(index=DedupIndex(max_bits=near_bits))
    # A fresh warehouse may not have the crawler tables yet: the write migrates it.
    with warehouse.write(warehouse_path):
        pass
    with warehouse.read(warehouse_path) as con:
        for url, etag, lm, marker, chash, did, complete in con.execute(
            "SELECT url, etag, last_modified, marker, content_hash, doc_id, complete FROM crawl_state"
        ).fetchall():
            known.urls[url] = UrlState(etag, lm, marker, chash, did, complete)
        for url, failures, first, retry, gave_up, marker in con.execute(
            "SELECT url, failures, first_failed, retry_after, gave_up, marker FROM broken_urls"
        ).fetchall():
            known.broken[url] = Broken(failures, first, retry, gave_up, marker)
        rows = con.execute(
            "SELECT d.doc_id, d.content_hash, d.channel, d.author_hash, f.simhash "
            "FROM documents d LEFT JOIN document_fingerprints f USING (doc_id)"
        ).fetchall()
    for did, chash, channel, ahash, fp in rows:
        known.index.add(
            did, chash, content_key(chash, channel, ahash), None if fp is None else to_unsigned(fp)
        )
    return known


def state_key(url: str | None, key: str = "") -> str | None:
    """The crawl_state key of a URL (plus '#key' for several documents at one URL)."""
    canon = canonical_url(url)
    if canon and key:
        return f"{canon}#{key}"
    return canon
