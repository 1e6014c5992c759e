"""Politeness and limits out of range are rejected when the config is read."""

from __future__ import annotations

import pytest

from radar.core.config import ConfigError, parse_config


def _crawl(**crawl):
    return parse_config({"crawl": crawl}, source="radar.toml")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("download_delay", -1.0, "crawl.download_delay: must be between 0 and 3600, got -1.0"),
    ("concurrency", 0, "crawl.concurrency: must be at least 1, got 0"),
    ("concurrency_per_domain", 0, "crawl.concurrency_per_domain: must be at least 1"),
    ("download_timeout", 0, "crawl.download_timeout"),
    ("retry_times", -1, "crawl.retry_times"),
    ("retry_backoff", -0.5, "crawl.retry_backoff"),
    ("max_pages", 0, "crawl.max_pages"),
    ("max_pdf_pages", 0, "crawl.max_pdf_pages"),
    ("extract_timeout", 0.0, "crawl.extract_timeout"),
    ("near_duplicate_bits", 40, "crawl.near_duplicate_bits"),
    ("max_page_bytes", 0, "crawl.max_page_bytes"),
    ("give_up_after", 0, "crawl.give_up_after: must be at least 1"),
    ("broken_retry_hours", -1.0, "crawl.broken_retry_hours"),
])
def test_out_of_range_values_are_rejected(key, value, message):
    with pytest.raises(ConfigError, match="radar.toml: " + message.replace(".", r"\.")):
        _crawl(**{key: value})


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "intranet.local", "10.1.2.3/16"])
def test_allow_networks_entries_must_be_cidr_ranges(entry):
    with pytest.raises(ConfigError, match=r"crawl\.allow_networks: .* CIDR"):
        _crawl(allow_networks=[entry])


def test_valid_limits_and_networks_are_kept():
    cfg = _crawl(download_delay=0.0, concurrency=1, allow_networks=["127.0.0.1/32", "fd00::/8"],
                 max_pdf_pages=50, extract_timeout=5.5)
    assert cfg.crawl.allow_networks == ["127.0.0.1/32", "fd00::/8"]
    assert (cfg.crawl.max_pdf_pages, cfg.crawl.extract_timeout) == (50, 5.5)
    assert _crawl().crawl.allow_networks == []  # nothing opened by default


@pytest.mark.parametrize(("ingest", "message"), [
    ({"earliest": "last year"}, "ingest.earliest: expected an ISO date"),
    ({"days_ahead": -1.0}, "ingest.days_ahead: must be at least 0"),
])
def test_the_import_date_window_is_checked(ingest, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"ingest": ingest}, source="radar.toml")
