"""Reconciling a batch with the warehouse when several crawl processes write to it.

One crawl process decides "new story, copy, or unchanged" against what the
warehouse held when it started plus what it stored itself (`crawlers.known`).
Distributed crawl workers also store stories at the same time: two of them can
meet one story (one article linked from two feeds, a wire story under two
URLs) within seconds. So in a distributed crawl every batch is checked again
inside its write transaction, which holds the warehouse's write lock, against
what the warehouse holds at that instant: a "new" document whose id, exact
content (same rule as `dedup.content_key`) or SimHash near-duplicate is
already stored becomes a carrier of the stored document, and this process
remembers the mapping so its later rows point at the stored id too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa

# Documents stored by another process since shortly before this one loaded its index
# (an item is stamped fetched_at when parsed, committed up to a batch interval later).
MARGIN = timedelta(minutes=10)


@dataclass
class Reconciler:
    """The check of one crawl process's batches; `demoted` counts "new" rows that were
    already stored (by source), `remap` sends this process's ids to the stored ones."""

    since: datetime
    near_bits: int = 8
    demoted: Counter = field(default_factory=Counter)
    remap: dict[str, str] = field(default_factory=dict)

    def apply(self, con, batch) -> Counter:
        """Turn the batch's already-stored "new" rows into carriers; returns them by source
        (call within the write transaction, before the batch's rows are inserted)."""
        self._remap(batch)
        if not batch.new:
            return Counter()
        fps = {f["doc_id"]: f["simhash"] for f in batch.fingerprints}
        new = pa.Table.from_pylist(  # noqa: F841 (read by SQL)
            [{"doc_id": r["doc_id"], "content_hash": r["content_hash"], "channel": r["channel"],
              "author_hash": r["author_hash"], "simhash": fps.get(r["doc_id"])}
             for r in batch.new],
            schema=pa.schema([("doc_id", pa.string()), ("content_hash", pa.string()),
                              ("channel", pa.string()), ("author_hash", pa.string()),
                              ("simhash", pa.int64())]))
        found = dict(con.execute(
            "SELECT n.doc_id, n.doc_id FROM new n JOIN documents d USING (doc_id)").fetchall())
        found.update({k: v for k, v in con.execute(
            "SELECT n.doc_id, min(d.doc_id) FROM new n JOIN documents d "
            "ON d.content_hash = n.content_hash AND ("
            "  (n.channel <> 'citizen' AND d.channel <> 'citizen') OR"
            "  (n.channel = 'citizen' AND d.channel = 'citizen' AND n.author_hash IS NOT NULL"
            "   AND d.author_hash = n.author_hash)) "
            "GROUP BY n.doc_id").fetchall() if k not in found})
        if fps:
            found.update({k: v for k, v in con.execute(
                "SELECT n.doc_id, arg_min(f.doc_id, bit_count(xor(n.simhash, f.simhash))) "
                "FROM new n, document_fingerprints f JOIN documents d USING (doc_id) "
                "WHERE n.simhash IS NOT NULL AND d.fetched_at >= ? "
                "AND bit_count(xor(n.simhash, f.simhash)) <= ? GROUP BY n.doc_id",
                [self.since - MARGIN, self.near_bits]).fetchall() if k not in found})
        return self._demote(batch, found) if found else Counter()

    def adjust(self, finished: list[dict], pending: Counter) -> None:
        """Closing runs count only the documents they really added."""
        for run in finished:
            gone = self.demoted.get(run.get("source"), 0) + pending.get(run.get("source"), 0)
            if gone:
                run["new_documents"] = max(0, run["new_documents"] - gone)

    def committed(self, pending: Counter) -> None:
        """The transaction holding `pending` committed."""
        self.demoted.update(pending)

    def _remap(self, batch) -> None:
        if not self.remap:
            return
        for rows in (batch.new, batch.updates, batch.carriers, batch.fingerprints, batch.posts,
                     list(batch.state.values())):
            for row in rows:
                if row.get("doc_id") in self.remap:
                    row["doc_id"] = self.remap[row["doc_id"]]

    def _demote(self, batch, found: dict[str, str]) -> Counter:
        demoted: Counter = Counter()
        keep = []
        for row in batch.new:
            target = found.get(row["doc_id"])
            if target is None:
                keep.append(row)
                continue
            demoted[row["source"]] += 1
            if target != row["doc_id"]:
                self.remap[row["doc_id"]] = target
            batch.carriers.append({"doc_id": target, "source": row["source"], "url": row["url"]})
        batch.new = keep
        gone = set(found)
        batch.fingerprints = [f for f in batch.fingerprints if f["doc_id"] not in gone]
        batch.posts = [p for p in batch.posts if p["doc_id"] not in gone]
        for row in batch.state.values():
            if row.get("doc_id") in self.remap:
                row["doc_id"] = self.remap[row["doc_id"]]
        return demoted
