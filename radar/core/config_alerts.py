"""The alert sections of radar.toml: `[smtp]` (mail delivery) and `[[subscriptions]]`.

Kept apart from radar.core.config (which re-exports both classes) to keep modules small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class SmtpConfig:
    """Mail delivery; the password comes from the environment variable named here."""

    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    user: str = ""
    password_env: str = "RADAR_SMTP_PASSWORD"
    sender: str = "radar@localhost"
    # A private CA bundle for STARTTLS/TLS to an internal relay ("" = system CAs).
    ca_file: str = ""
    timeout: int = 30
    # Outbox retries: wait retry_backoff * 2**(attempts-1) seconds (capped at a day)
    # before the next attempt; after max_attempts a message is marked failed.
    max_attempts: int = 8
    retry_backoff: int = 300
    # A message left in 'sending' by a process that is gone is settled after this many
    # seconds (or at once when that process is known to be dead on this host).
    stale_after: int = 900


@dataclass
class SubscriptionConfig:
    """One subscriber and what they want to hear about."""

    email: str
    areas: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    min_ring: Literal["Act", "Prepare", "Watch", "Monitor"] = "Prepare"
    frequency: Literal["immediate", "daily", "weekly"] = "immediate"
    # Also alert when a topic's score rises past this (unset = rings only).
    score_threshold: float | None = None
