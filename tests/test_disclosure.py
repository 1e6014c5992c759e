"""The one k-threshold rule (radar.core.disclosure), without a database."""

from radar.core.disclosure import allow, decide, gate, withheld_note


def test_citizen_text_needs_k_distinct_authors():
    assert not allow(channel="citizen", authors=4, k=5)
    assert allow(channel="citizen", authors=5, k=5)
    assert gate("my words", channel="citizen", authors=2, k=5) is None
    assert gate("my words", channel="citizen", authors=7, k=5) == "my words"


def test_unknown_count_withholds_and_public_channels_pass():
    assert not allow(channel="citizen", authors=None, k=5)
    assert not allow(channel=None, authors=None, k=5)  # unknown channel: treated as citizen
    assert allow(channel="news", authors=None, k=5)
    assert allow(channel="policy", authors=0, k=5)


def test_k_below_one_still_needs_one_author():
    assert not allow(channel="citizen", authors=0, k=0)
    assert allow(channel="citizen", authors=1, k=0)


def test_note_gives_counts_not_text():
    d = decide(channel="citizen", authors=3, k=5)
    assert not d.show and "3 distinct authors" in d.note and "fewer than 5" in d.note
    assert "1 distinct author " in withheld_note(1, 5)
    assert decide(channel="citizen", authors=9, k=5).show
