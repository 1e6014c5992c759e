"""Scrapy settings: the project defaults as data, and the per-source overrides from radar.toml.

`scrapy crawl` reads this module (see scrapy.cfg); `crawlers.run` builds each
source's settings with `source_settings`, so the radar.toml `[crawl]` section
and a source's own limits are what the crawler obeys.
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "horizon_radar"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = True
USER_AGENT = "HorizonRadar/0.1 (+https://github.com/horizon-radar)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio worker tasks for every response's output; our
# pipelines are synchronous, so a few suffice (100, the default, cost ~3 ms a page).
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF = 2.0
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"  # the failure is recorded in fetch_errors too
RETRY_BACKOFF_MAX = 60.0
# 304 Not Modified reaches the spider: it is the answer to our conditional GET.
HTTPERROR_ALLOWED_CODES = [304]
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Depth is counted by the spiders in listing hops (source max_depth), not raw requests:
# a sitemap index -> sitemap -> paper is one hop for a reader, three for Scrapy.
DEPTH_LIMIT = 0
REDIRECT_MAX_TIMES = 5
DNS_TIMEOUT = 20
LOG_LEVEL = "INFO"
FEEDS: dict[str, Any] = {}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# The network policy checks the address a host resolves to; the connection then reuses
# that cached answer (a second, different answer would bypass the check).
DNSCACHE_ENABLED = True
NETWORK_ALLOW: list[str] = []   # `scrapy crawl` without a radar config: nothing opened
DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.NetworkPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.ConditionalGetMiddleware": 560,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.PreparePipeline": 100,
    "crawlers.pipelines.PrivacyPipeline": 200,
    "crawlers.pipelines.DedupPipeline": 300,
    "crawlers.pipelines.StorePipeline": 900,
}


def project_settings() -> dict[str, Any]:
    """This module's settings as a dict."""
    return {k: v for k, v in globals().items() if k.isupper()}


def user_agent(crawl) -> str:
    """The User-Agent: the configured product token plus the contact address."""
    if crawl.contact and crawl.contact not in crawl.user_agent:
        return f"{crawl.user_agent} ({crawl.contact})"
    return crawl.user_agent


def source_settings(cfg, source, log_level: str = "WARNING") -> dict[str, Any]:
    """Scrapy settings for one source: politeness from [crawl], limits from the source."""
    crawl = cfg.crawl
    settings = project_settings()
    settings.update(
        USER_AGENT=user_agent(crawl),
        ROBOTSTXT_OBEY=crawl.obey_robots,
        CONCURRENT_REQUESTS=crawl.concurrency,
        CONCURRENT_REQUESTS_PER_DOMAIN=crawl.concurrency_per_domain,
        DOWNLOAD_DELAY=crawl.download_delay,
        DOWNLOAD_TIMEOUT=crawl.download_timeout,
        DOWNLOAD_MAXSIZE=crawl.max_page_bytes,
        AUTOTHROTTLE_ENABLED=crawl.autothrottle,
        AUTOTHROTTLE_START_DELAY=max(crawl.download_delay, 0.01),
        AUTOTHROTTLE_TARGET_CONCURRENCY=float(crawl.concurrency_per_domain),
        RETRY_TIMES=crawl.retry_times,
        RETRY_BACKOFF=crawl.retry_backoff,
        RETRY_BACKOFF_MAX=crawl.retry_backoff_max,
        LOG_LEVEL=log_level,
    )
    return settings
