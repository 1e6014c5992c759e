"""Helpers shared by the tests that run the pipeline against the local demo web."""

from __future__ import annotations

import re


def fast_crawl(text: str) -> str:
    """A radar.toml text whose [crawl] does not slow down for the local test web, and may
    reach it on 127.0.0.1 (loopback is refused unless opened)."""
    for key, value in (("autothrottle", "false"), ("download_delay", "0.0"), ("retry_times", "0"),
                       ("allow_networks", '["127.0.0.1/32"]')):
        line = f"{key} = {value}"
        text, n = re.subn(rf"(?m)^{key} = .*$", line, text, count=1)
        if not n:
            text = text.replace("[crawl]\n", f"[crawl]\n{line}\n", 1)
    return text
