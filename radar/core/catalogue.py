"""The service catalogue and the watch list: what the organisation runs and what it watches.

Both come from radar.toml (`[[services]]`, `[[watch]]`, origin 'config') or are added
in the dashboard or with the CLI (origin 'dashboard' | 'cli'). `sync_config` brings
the file's entries into the warehouse: new names are added, changed entries
updated, removed ones deactivated (their history stays). Entries added elsewhere
are never touched by the file. Confirming or rejecting a topic-service match is
appended to `service_match_reviews`; the latest review counts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from radar.core import warehouse
from radar.core.config import PLAIN_EMAIL, Config
from radar.core.documents import utcnow

MAX_TEXT = 2000
MAX_NAME = 200
EMAIL = PLAIN_EMAIL  # a plain local@domain address
ORIGINS = ("config", "dashboard", "cli")
VERDICTS = ("confirmed", "rejected")


class CatalogueError(ValueError):
    """A service, watch item or review that cannot be recorded, with the reason."""


@dataclass(frozen=True)
class Service:
    """One service of the catalogue."""

    service_id: int
    name: str
    owner: str | None
    owner_email: str | None
    area: str | None
    description: str
    keywords: list[str]
    origin: str
    active: bool


@dataclass(frozen=True)
class WatchItem:
    """One theme on the watch list."""

    watch_id: int
    name: str
    description: str
    keywords: list[str]
    area: str | None
    similarity: float | None
    origin: str
    active: bool


def _clean(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _keywords(values) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    out: list[str] = []
    for v in values or []:
        v = _clean(v, MAX_NAME).lower()
        if v and v not in out:
            out.append(v)
    return out


def _check(name: str, description: str, keywords: list[str], email: str | None, what: str) -> None:
    if not name:
        raise CatalogueError(f"a {what} needs a name")
    if not description and not keywords:
        raise CatalogueError(f"{what} {name!r}: give a description or keywords to match on")
    if email and not EMAIL.match(email):
        raise CatalogueError(f"{what} {name!r}: {email!r} is not a plain e-mail address")


def add_service(path: str | os.PathLike, name: str, *, owner: str = "", owner_email: str = "",
                area: str = "", description: str = "", keywords=(), who: str = "",
                origin: str = "dashboard") -> Service:
    """Add a service (its name must be new); returns it. `who` is required outside config."""
    name, owner, email = _clean(name, MAX_NAME), _clean(owner, MAX_NAME), _clean(owner_email, MAX_NAME)
    description, kws, area = _clean(description, MAX_TEXT), _keywords(keywords), _clean(area, MAX_NAME)
    who = _clean(who, MAX_NAME)
    _check(name, description, kws, email, "service")
    if origin != "config" and not who:
        raise CatalogueError("adding a service needs the name of the person adding it")
    now = utcnow()
    with warehouse.write(path) as con:
        if con.execute("SELECT 1 FROM services WHERE lower(name) = lower(?)", [name]).fetchone():
            raise CatalogueError(f"there is already a service called {name!r}")
        sid = warehouse.insert_with_id(
            con, "services", "service_id", "service_seq",
            ("name", "owner", "owner_email", "area", "description", "keywords", "origin", "added_by",
             "created_at", "updated_at"),
            [name, owner or None, email or None, area or None, description, kws, origin,
             who or None, now, now])
    return Service(sid, name, owner or None, email or None, area or None, description, kws, origin,
                   True)


def add_watch(path: str | os.PathLike, name: str, *, description: str = "", keywords=(),
              area: str = "", similarity: float | None = None, who: str = "",
              origin: str = "dashboard") -> WatchItem:
    """Add a theme to the watch list; returns it."""
    name, description = _clean(name, MAX_NAME), _clean(description, MAX_TEXT)
    kws, area, who = _keywords(keywords), _clean(area, MAX_NAME), _clean(who, MAX_NAME)
    _check(name, description, kws, None, "watch item")
    if similarity is not None and not 0 < similarity <= 1:
        raise CatalogueError(f"watch item {name!r}: similarity must be in (0, 1]")
    if origin != "config" and not who:
        raise CatalogueError("adding a watch item needs the name of the person adding it")
    now = utcnow()
    with warehouse.write(path) as con:
        if con.execute("SELECT 1 FROM watch_items WHERE lower(name) = lower(?)", [name]).fetchone():
            raise CatalogueError(f"the watch list already has {name!r}")
        wid = warehouse.insert_with_id(
            con, "watch_items", "watch_id", "watch_seq",
            ("name", "description", "keywords", "area", "similarity", "origin", "added_by",
             "created_at", "updated_at"),
            [name, description, kws, area or None, similarity, origin, who or None, now, now])
    return WatchItem(wid, name, description, kws, area or None, similarity, origin, True)


def sync_config(path: str | os.PathLike, cfg: Config) -> dict[str, int]:
    """Bring [[services]] and [[watch]] from radar.toml into the warehouse (one transaction).

    Returns counts: added, updated, deactivated. A name that exists with another
    origin (added in the dashboard) is taken over by the file.
    """
    counts = {"added": 0, "updated": 0, "deactivated": 0}
    now = utcnow()
    services = [(_clean(s.name, MAX_NAME), _clean(s.owner, MAX_NAME) or None,
                 _clean(s.owner_email, MAX_NAME) or None, _clean(s.area, MAX_NAME) or None,
                 _clean(s.description, MAX_TEXT), _keywords(s.keywords)) for s in cfg.services]
    watch = [(_clean(w.name, MAX_NAME), _clean(w.description, MAX_TEXT), _keywords(w.keywords),
              _clean(w.area, MAX_NAME) or None, w.similarity) for w in cfg.watch]
    with warehouse.write(path) as con:
        for table, rows, cols, (key, seq) in (
            ("services", services, ("name", "owner", "owner_email", "area", "description", "keywords"),
             ("service_id", "service_seq")),
            ("watch_items", watch, ("name", "description", "keywords", "area", "similarity"),
             ("watch_id", "watch_seq")),
        ):
            existing = {r[0].lower(): r for r in con.execute(
                f"SELECT name, {', '.join(cols[1:])}, origin, active FROM {table}").fetchall()}
            for row in rows:
                old = existing.get(row[0].lower())
                if old is None:
                    warehouse.insert_with_id(con, table, key, seq,
                                             (*cols, "origin", "created_at", "updated_at"),
                                             [*row, "config", now, now])
                    counts["added"] += 1
                elif tuple(old[1:len(cols)]) != tuple(row[1:]) or old[-2] != "config" or not old[-1]:
                    sets = ", ".join(f"{c} = ?" for c in cols[1:])
                    con.execute(f"UPDATE {table} SET {sets}, origin = 'config', active = true, "
                                f"updated_at = ? WHERE lower(name) = lower(?)", [*row[1:], now, row[0]])
                    counts["updated"] += 1
            wanted = [r[0].lower() for r in rows]
            gone = warehouse.update_returning(
                con, table, key, "active = false, updated_at = $now",
                "origin = 'config' AND active AND NOT list_contains($wanted::VARCHAR[], lower(name))",
                "name", {"now": now, "wanted": wanted})
            counts["deactivated"] += len(gone)
    return counts


def set_active(path: str | os.PathLike, table: str, item_id: int, active: bool) -> None:
    """Retire or restore a service ('services') or watch item ('watch_items')."""
    if table not in ("services", "watch_items"):
        raise CatalogueError(f"unknown catalogue table {table!r}")
    key = "service_id" if table == "services" else "watch_id"
    with warehouse.write(path) as con:
        row = warehouse.update_returning(con, table, key, "active = $active, updated_at = $now",
                                         f"{key} = $id", key,
                                         {"active": active, "now": utcnow(), "id": int(item_id)})
    if not row:
        raise CatalogueError(f"no {table[:-1].replace('_', ' ')} {item_id}")


def services(path: str | os.PathLike, include_inactive: bool = False) -> list[Service]:
    """The catalogue, by name."""
    where = "" if include_inactive else "WHERE active"
    rows = warehouse.query(path, "SELECT service_id, name, owner, owner_email, area, description, "
                                 f"keywords, origin, active FROM services {where} ORDER BY name")
    return [Service(*r[:6], list(r[6] or []), *r[7:]) for r in rows]


def watch_items(path: str | os.PathLike, include_inactive: bool = False) -> list[WatchItem]:
    """The watch list, by name."""
    where = "" if include_inactive else "WHERE active"
    rows = warehouse.query(path, "SELECT watch_id, name, description, keywords, area, similarity, "
                                 f"origin, active FROM watch_items {where} ORDER BY name")
    return [WatchItem(r[0], r[1], r[2], list(r[3] or []), *r[4:]) for r in rows]


def review_match(path: str | os.PathLike, service_id: int, topic_id: int, verdict: str, who: str,
                 note: str = "") -> int:
    """Confirm or reject that a topic touches a service; appended, the latest counts."""
    who = _clean(who, MAX_NAME)
    if not who:
        raise CatalogueError("confirming or rejecting a match needs your name")
    if verdict not in VERDICTS:
        raise CatalogueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    with warehouse.write(path) as con:
        if not con.execute("SELECT 1 FROM services WHERE service_id = ?", [int(service_id)]).fetchone():
            raise CatalogueError(f"no service {service_id}")
        if not con.execute("SELECT 1 FROM topics WHERE topic_id = ?", [int(topic_id)]).fetchone():
            raise CatalogueError(f"no topic {topic_id}")
        return warehouse.insert_with_id(
            con, "service_match_reviews", "review_id", "match_review_seq",
            ("service_id", "topic_id", "verdict", "who", '"at"', "note"),
            [int(service_id), int(topic_id), verdict, who, utcnow(), _clean(note, MAX_TEXT) or None])


def embedding_text(name: str, description: str, keywords: list[str]) -> str:
    """What is embedded for a service or watch item (the nlp stage uses this)."""
    text = name.strip()
    if description.strip():
        text += f": {description.strip()}"
    if keywords:
        text += f" ({', '.join(keywords)})"
    return text
