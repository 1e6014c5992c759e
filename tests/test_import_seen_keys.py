"""`crawlers.seen_keys.SeenKeys`: the keys an import has met, as 64-bit digests."""

from __future__ import annotations

import pytest

from crawlers import seen_keys
from crawlers.seen_keys import SeenKeys, digest


@pytest.mark.parametrize("merge_every", [1, 3, 65_536])
def test_keys_added_are_found_and_others_not_before_and_after_merging(monkeypatch, merge_every):
    monkeypatch.setattr(seen_keys, "MERGE_EVERY", merge_every)
    seen = SeenKeys()
    keys = [f"id\x00doc-{i}" for i in range(50)] + ["url+text\x00https://a.example/x#p1\x00ab",
                                                    "caf\u00e9 \U0001F600", "", "\ud800 lone"]
    for k in keys:
        assert k not in seen
        assert seen.first_seen([(k,)]) == [True]
        assert k in seen
    assert seen.first_seen([(keys[0],)]) == [False]  # again: still one key
    assert len(seen) == len(keys)
    assert all(k in seen for k in keys)
    assert not any(k in seen for k in ("id\x00doc-50", "id\x00doc-1 ", "url+text\x00https://a.example/x#p2\x00ab"))


def test_the_digest_is_stable_and_spreads():
    assert digest("id\x00doc-1") == digest("id\x00doc-1")
    assert len({digest(f"id\x00doc-{i}") for i in range(100_000)}) == 100_000
    assert 0 <= digest("x") < 2**64


@pytest.mark.parametrize("merge_every", [1, 2, 65_536])
def test_first_seen_marks_a_row_whose_any_key_was_met_before(monkeypatch, merge_every):
    """A row is new when none of its keys was met, in an earlier call or an earlier row of
    the same call; only new rows add their keys (a duplicate's other key stays unknown)."""
    monkeypatch.setattr(seen_keys, "MERGE_EVERY", merge_every)
    seen = SeenKeys()
    assert seen.first_seen([("id-a", "url-a"), ("id-b",), ("id-a",), ("id-c", "url-a")]) == [
        True, True, False, False]
    assert "id-c" not in seen and "url-a" in seen
    assert seen.first_seen([("id-c",), ("id-b", "url-x"), ("id-d", "url-d"), ("url-d",), ()]) == [
        True, False, True, False, True]
    assert "url-x" not in seen
    assert len(seen) == 6  # id-a, url-a, id-b, id-c, id-d, url-d
    assert all(k in seen for k in ("id-a", "url-a", "id-b", "id-c", "id-d", "url-d"))
