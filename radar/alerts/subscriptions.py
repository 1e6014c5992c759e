"""Subscriptions: synced from `[[subscriptions]]` in radar.toml, listed and changed in the warehouse.

A subscription is identified by its address and frequency (one immediate, one
daily and one weekly subscription per address at most). Rows come from two
places, recorded in `origin`:

- `config`: the `[[subscriptions]]` entries. Each sync applies an entry only
  when the entry itself changed since it was last applied (tracked by
  `config_hash`), so a change made with `radar subscriptions` (pausing,
  another ring) survives later runs until someone edits that entry in the
  file. An entry removed from the file deactivates its row (history is kept).
- `cli`: added with `radar subscriptions add`; the file never touches them.

Changing a subscription's filters resets its trigger baseline, so the next run
tells the subscriber what their new view holds (minus what they already know).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from radar.alerts.triggers import RINGS, Filters
from radar.core import warehouse
from radar.core.config import CHANNELS, Config, ConfigError, SubscriptionConfig

FREQUENCIES = ("immediate", "daily", "weekly")
FILTER_FIELDS = ("areas", "keywords", "channels", "min_ring", "score_threshold")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class SubscriptionError(ValueError):
    """A subscription that cannot be used (bad address, ring, channel...)."""


@dataclass
class Subscription:
    """One row of the `subscriptions` table."""

    email: str
    areas: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    min_ring: str = "Prepare"
    frequency: str = "immediate"
    score_threshold: float | None = None
    active: bool = True
    origin: str = "cli"
    config_hash: str | None = None
    subscription_id: int | None = None
    last_run_id: int | None = None
    last_message_at: datetime | None = None

    @property
    def filters(self) -> Filters:
        """The trigger filters of this subscription."""
        return Filters(tuple(self.areas), tuple(self.keywords), tuple(self.channels),
                       self.min_ring, self.score_threshold)

    @property
    def key(self) -> tuple[str, str]:
        """Address and frequency: what identifies a subscription."""
        return (self.email, self.frequency)


COLUMNS = ("subscription_id", "email", "areas", "keywords", "channels", "min_ring", "frequency",
           "score_threshold", "active", "origin", "config_hash", "last_run_id", "last_message_at")


def normalise_email(email: str) -> str:
    """The address lower-cased and checked: one plain `local@domain`, no names, no line breaks."""
    value = email.strip().lower()
    # ASCII only: an internationalised address would need SMTPUTF8 end to end.
    if not value.isascii() or not _EMAIL.match(value):
        raise SubscriptionError(f"not a plain e-mail address: {email!r}")
    return value


def validate(sub: Subscription, known_areas: list[str] | None = None) -> Subscription:
    """Check and normalise a subscription; raises SubscriptionError naming the bad field.

    With `known_areas` (the config's area names), an area filter naming none of
    them is an error: a typo would otherwise silence the subscription for good.
    """
    sub.email = normalise_email(sub.email)
    if sub.min_ring not in RINGS:
        raise SubscriptionError(f"{sub.email}: min_ring must be one of {' | '.join(RINGS)}, "
                                f"got {sub.min_ring!r}")
    if sub.frequency not in FREQUENCIES:
        raise SubscriptionError(f"{sub.email}: frequency must be one of {' | '.join(FREQUENCIES)}, "
                                f"got {sub.frequency!r}")
    bad = [c for c in sub.channels if c not in CHANNELS]
    if bad:
        raise SubscriptionError(f"{sub.email}: unknown channel(s) {bad} (known: {', '.join(CHANNELS)})")
    sub.areas = [a.strip() for a in sub.areas if a.strip()]
    if known_areas is not None:
        known = {a.casefold() for a in known_areas} | {"other"}
        bad = [a for a in sub.areas if a.casefold() not in known]
        if bad:
            raise SubscriptionError(f"{sub.email}: unknown area(s) {bad} (known: "
                                    f"{', '.join(known_areas)}, other)")
    sub.keywords = [k.strip() for k in sub.keywords if k.strip()]
    return sub


def area_names(cfg: Config) -> list[str]:
    """The service areas topics can be assigned to."""
    return [a.name for a in cfg.areas]


def from_config(entry: SubscriptionConfig) -> Subscription:
    """A subscription from a `[[subscriptions]]` entry, tagged with the entry's hash."""
    sub = Subscription(
        email=entry.email, areas=list(entry.areas), keywords=list(entry.keywords),
        channels=list(entry.channels), min_ring=entry.min_ring, frequency=entry.frequency,
        score_threshold=entry.score_threshold, origin="config",
    )
    sub.config_hash = hashlib.sha256(
        json.dumps(asdict(entry), sort_keys=True).encode()
    ).hexdigest()[:16]
    return sub


def configured(cfg: Config) -> list[Subscription]:
    """The validated `[[subscriptions]]` of a config; a bad entry is a ConfigError naming it."""
    subs, seen = [], set()
    where = cfg.path or "radar.toml"
    for i, entry in enumerate(cfg.subscriptions):
        try:
            sub = validate(from_config(entry), area_names(cfg))
        except SubscriptionError as exc:
            raise ConfigError(f"{where}: subscriptions[{i}]: {exc}") from None
        if sub.key in seen:
            raise ConfigError(f"{where}: subscriptions[{i}]: {sub.email} already has a "
                              f"{sub.frequency} subscription; merge the two entries")
        seen.add(sub.key)
        subs.append(sub)
    return subs


def _row(values: tuple) -> Subscription:
    d = dict(zip(COLUMNS, values, strict=True))
    for k in ("areas", "keywords", "channels"):
        d[k] = list(d[k] or [])
    return Subscription(**d)


def load(con) -> list[Subscription]:
    """Every subscription in the warehouse, by id."""
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM subscriptions ORDER BY subscription_id")
    return [_row(r) for r in rows.fetchall()]


@dataclass
class SyncPlan:
    """What syncing the config would do: rows to insert, update and deactivate."""

    insert: list[Subscription] = field(default_factory=list)
    update: list[Subscription] = field(default_factory=list)
    deactivate: list[Subscription] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the sync writes anything."""
        return bool(self.insert or self.update or self.deactivate)


def plan_sync(config_subs: list[Subscription], table: list[Subscription]) -> SyncPlan:
    """Compare the config's subscriptions with the table's rows (pure)."""
    plan = SyncPlan()
    by_key = {s.key: s for s in table}
    wanted = {s.key for s in config_subs}
    for sub in config_subs:
        row = by_key.get(sub.key)
        if row is None:
            plan.insert.append(sub)
        elif row.origin != "config" or row.config_hash != sub.config_hash:
            # The file entry is new to this row or was edited: the file wins.
            new = Subscription(**{**asdict(row), **_settings(sub), "active": True,
                                  "origin": "config", "config_hash": sub.config_hash})
            if _settings(new) != _settings(row):
                new.last_run_id = None
            plan.update.append(new)
    for row in table:
        if row.origin == "config" and row.active and row.key not in wanted:
            plan.deactivate.append(row)
    return plan


def _settings(sub: Subscription) -> dict[str, Any]:
    return {k: getattr(sub, k) for k in FILTER_FIELDS}


def apply_sync(con, plan: SyncPlan) -> None:
    """Write a sync plan inside the caller's transaction."""
    for s in plan.insert:
        _insert(con, s)
    for s in plan.update:
        con.execute(
            "UPDATE subscriptions SET areas = ?, keywords = ?, channels = ?, min_ring = ?, "
            "score_threshold = ?, active = ?, origin = ?, config_hash = ?, last_run_id = ?, "
            "updated_at = current_timestamp WHERE email = ? AND frequency = ?",
            [s.areas, s.keywords, s.channels, s.min_ring, s.score_threshold, s.active, s.origin,
             s.config_hash, s.last_run_id, s.email, s.frequency],
        )
    for s in plan.deactivate:
        con.execute("UPDATE subscriptions SET active = false, config_hash = NULL, "
                    "updated_at = current_timestamp WHERE subscription_id = ?", [s.subscription_id])


def _insert(con, s: Subscription) -> int:
    sid = warehouse.next_id(con, "subscription_seq")
    con.execute(
        "INSERT INTO subscriptions (subscription_id, email, areas, keywords, channels, min_ring, "
        "frequency, score_threshold, active, origin, config_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sid, s.email, s.areas, s.keywords, s.channels, s.min_ring, s.frequency, s.score_threshold,
         s.active, s.origin, s.config_hash])
    return sid


def sync(cfg: Config) -> SyncPlan:
    """Bring the `subscriptions` table in line with radar.toml (one short transaction)."""
    wanted = configured(cfg)
    path = Path(cfg.warehouse_path)
    if warehouse.exists(path):  # the usual case, nothing changed, needs no write lock
        with warehouse.read(path) as con:
            if warehouse.table_exists(con, "subscriptions") and not plan_sync(wanted, load(con)).changed:
                return SyncPlan()
    with warehouse.write(path) as con:
        plan = plan_sync(wanted, load(con))
        apply_sync(con, plan)
    return plan


def effective(cfg: Config) -> list[Subscription]:
    """The subscriptions a run would use, without writing (for dry runs): table plus pending sync."""
    wanted = configured(cfg)
    path = Path(cfg.warehouse_path)
    table = []
    if warehouse.exists(path):
        with warehouse.read(path) as con:
            table = load(con) if warehouse.table_exists(con, "subscriptions") else []
    plan = plan_sync(wanted, table)
    by_key = {s.key: s for s in table}
    for s in plan.insert + plan.update:
        by_key[s.key] = s
    for s in plan.deactivate:
        by_key[s.key].active = False
    return [s for s in by_key.values() if s.active]


def list_subscriptions(cfg: Config) -> list[Subscription]:
    """Every subscription (active or not), after syncing the config."""
    sync(cfg)
    with warehouse.read(cfg.warehouse_path) as con:
        return load(con)


def add(cfg: Config, sub: Subscription) -> int:
    """Add a subscription managed from the command line; returns its id."""
    validate(sub, area_names(cfg))
    sub.origin, sub.config_hash = "cli", None
    sync(cfg)
    with warehouse.write(cfg.warehouse_path) as con:
        exists = con.execute("SELECT subscription_id FROM subscriptions WHERE email = ? AND "
                             "frequency = ?", [sub.email, sub.frequency]).fetchone()
        if exists:
            raise SubscriptionError(f"{sub.email} already has a {sub.frequency} subscription "
                                    f"(#{exists[0]}); change it with `radar subscriptions set`")
        return _insert(con, sub)


def change(cfg: Config, subscription_id: int, **changes: Any) -> Subscription:
    """Change a subscription's filters or pause/resume it (`active`); returns the new row."""
    unknown = set(changes) - set(FILTER_FIELDS) - {"active"}
    if unknown:
        raise SubscriptionError(f"cannot change {sorted(unknown)}")
    sync(cfg)
    with warehouse.write(cfg.warehouse_path) as con:
        rows = [s for s in load(con) if s.subscription_id == subscription_id]
        if not rows:
            raise SubscriptionError(f"no subscription #{subscription_id}")
        old = rows[0]
        new = validate(Subscription(**{**asdict(old), **changes}), area_names(cfg))
        if _settings(new) != _settings(old):
            new.last_run_id = None  # a new view: evaluate it afresh
        con.execute(
            "UPDATE subscriptions SET areas = ?, keywords = ?, channels = ?, min_ring = ?, "
            "score_threshold = ?, active = ?, last_run_id = ?, updated_at = current_timestamp "
            "WHERE subscription_id = ?",
            [new.areas, new.keywords, new.channels, new.min_ring, new.score_threshold,
             new.active, new.last_run_id, subscription_id],
        )
    return new

