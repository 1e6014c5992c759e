"""Values of the config that must lie in a range: politeness, limits, the import's date window.

Checked when the config is read, so a negative delay or zero concurrency stops
`radar` with the key named instead of misbehaving later. Each check returns the
problem in words (the loader adds the file name), or None.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from radar.core.netpolicy import NetworkPolicyError, parse_networks

# [crawl] keys: (lowest, highest or None).
CRAWL_RANGES: dict[str, tuple[float, float | None]] = {
    "concurrency": (1, None),
    "concurrency_per_domain": (1, None),
    "download_delay": (0, 3600),
    "download_timeout": (1, 3600),
    "max_page_bytes": (1, None),
    "retry_times": (0, 20),
    "retry_backoff": (0, None),
    "retry_backoff_max": (0, None),
    "max_pages": (1, None),
    "max_depth": (0, None),
    "batch_size": (1, None),
    "near_duplicate_bits": (0, 32),
    "extract_processes": (0, 64),
    "max_pdf_pages": (1, None),
    "extract_timeout": (0.1, None),
    "give_up_after": (1, None),
    "broken_retry_hours": (0, None),
    "queue_idle": (0.5, 86400),
}


def check_crawl(crawl) -> str | None:
    """The first [crawl] value out of range, or an allow_networks entry that is no CIDR."""
    for key, (low, high) in CRAWL_RANGES.items():
        value = getattr(crawl, key, None)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            return f"crawl.{key}: must be {bound}, got {value!r}"
    try:
        parse_networks(crawl.allow_networks)
    except NetworkPolicyError as exc:
        return f"crawl.allow_networks: {exc}"
    return check_queue_url(getattr(crawl, "queue", ""))


QUEUE_SCHEMES = ("redis", "rediss", "unix")


def check_queue_url(url: str) -> str | None:
    """`[crawl] queue`: empty, or redis://host[:port][/db], rediss://... or unix:///path,
    without a password (that comes from the environment variable queue_password_env)."""
    if not url:
        return None
    example = 'e.g. "redis://10.0.0.5:6379/0"'
    parts = urlsplit(url)
    if "@" in parts.netloc and parts.password is not None:  # never echo it back
        return ("crawl.queue: do not put the password in radar.toml; set the environment "
                "variable named by crawl.queue_password_env (default RADAR_QUEUE_PASSWORD)")
    try:
        port = parts.port
    except ValueError as exc:
        return f"crawl.queue: not a valid URL ({exc}): {url!r}, {example}"
    if parts.scheme not in QUEUE_SCHEMES:
        return (f"crawl.queue: expected a redis://, rediss:// or unix:// URL, {example}; "
                f"got {url!r}")
    if parts.scheme == "unix":
        return None if parts.path else f"crawl.queue: a unix:// URL needs a socket path: {url!r}"
    if not parts.hostname:
        return f"crawl.queue: no host in {url!r}, {example}"
    db = parts.path.strip("/")
    if db and not db.isdigit():
        return f"crawl.queue: the database after the host must be a number, got {db!r} in {url!r}"
    if port == 0:
        return f"crawl.queue: port 0 in {url!r}"
    return None


DASK_ADDRESS = re.compile(r"^(tcp|tls)://\[?[A-Za-z0-9.:-]+\]?:\d{1,5}$")


def check_cluster(address: str) -> str | None:
    """[analysis] cluster: empty, or a Dask scheduler address."""
    if address and not DASK_ADDRESS.match(address):
        return f"analysis.cluster: expected a Dask scheduler address like tcp://host:8786, got {address!r}"
    return None


def check_ingest(ingest) -> str | None:
    """The [ingest] date window: an ISO date and a non-negative number of days."""
    try:
        date.fromisoformat(ingest.earliest)
    except ValueError:
        return f"ingest.earliest: expected an ISO date like 1900-01-01, got {ingest.earliest!r}"
    if ingest.days_ahead < 0:
        return f"ingest.days_ahead: must be at least 0, got {ingest.days_ahead!r}"
    return None
