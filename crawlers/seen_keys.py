"""The keys an import has met, in 8 bytes each.

`radar import` counts a row that repeats an earlier row of the same file (the same
document id, or the same canonical URL, fragment and text) as a duplicate in the file.
It kept every key as a Python string: ids and (URL, text hash) pairs took ~470 MB at a
million rows, growing with the file. Here each key is a 64-bit digest (BLAKE2b): the
latest keys in a set, the earlier ones merged into one sorted NumPy array, 8 bytes a key
(a million rows: 16 MB). Two keys of a million share a digest with odds of about 3e-8;
the later row would be counted as a duplicate.
"""

from __future__ import annotations

import hashlib

import numpy as np

# Keys held in the set before they are merged into the sorted array.
MERGE_EVERY = 65_536


def digest(key: str) -> int:
    """A key's 64-bit digest."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


class SeenKeys:
    """A set of strings that keeps only their digests (`first_seen` adds, `key in seen`)."""

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._merged = np.empty(0, dtype=np.uint64)

    def __contains__(self, key: str) -> bool:
        return self._has(digest(key))

    def __len__(self) -> int:
        return len(self._recent) + self._merged.size

    def first_seen(self, rows: list[tuple[str, ...]]) -> list[bool]:
        """For each row's keys, in order: True when none of them was met before (in an
        earlier call or an earlier row here), and then they are added; False otherwise,
        and nothing is added. The merged keys are looked up for all rows at once."""
        digests = [[digest(k) for k in keys] for keys in rows]
        flat = np.fromiter((h for row in digests for h in row), dtype=np.uint64)
        if self._merged.size and flat.size:
            at = np.minimum(np.searchsorted(self._merged, flat), self._merged.size - 1)
            merged = set(flat[self._merged[at] == flat].tolist())
        else:
            merged = set()
        out = []
        for row in digests:
            first = not any(h in self._recent or h in merged for h in row)
            if first:
                self._recent.update(row)
            out.append(first)
        if len(self._recent) >= MERGE_EVERY:
            self._merge()
        return out

    def _has(self, h: int) -> bool:
        if h in self._recent:
            return True
        i = int(np.searchsorted(self._merged, np.uint64(h)))
        return i < self._merged.size and int(self._merged[i]) == h

    def _merge(self) -> None:
        # The recent keys are distinct and none is merged already (`first_seen`):
        # sorted, they are inserted in place, one copy of the array.
        fresh = np.sort(np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent)))
        self._merged = np.insert(self._merged, np.searchsorted(self._merged, fresh), fresh)
        self._recent.clear()
