"""`radar init`: a commented config file, the warehouse and the pseudonymisation salt."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from radar.core import warehouse
from radar.core.config import Config, load_config
from radar.core.migrations import current_version
from radar.core.privacy import ensure_salt_file


@dataclass
class InitResult:
    """What `radar init` created or found."""

    config_path: Path
    config_created: bool
    warehouse_path: Path
    schema_version: int
    salt_path: Path | None


def config_template() -> str:
    """The commented default `radar.toml`."""
    return resources.files("radar.core").joinpath("templates/radar.toml").read_text(encoding="utf-8")


def init_project(config_path: Path) -> InitResult:
    """Create the config (never overwriting one), the warehouse and the salt file."""
    created = False
    if not config_path.exists():
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(config_template(), encoding="utf-8")
        created = True
    cfg: Config = load_config(config_path)
    wh = cfg.warehouse_path
    salt = ensure_salt_file(wh)
    with warehouse.write(wh) as con:
        register_sources(con, cfg)
        version = current_version(con)
    return InitResult(config_path, created, wh, version, salt)


def register_sources(con, cfg: Config) -> None:
    """Record the configured sources in the `sources` table (new ones added, changed ones updated)."""
    for s in cfg.sources:
        warehouse.upsert(
            con, "sources", ("name", "type", "url", "channel"), ("name",),
            "SELECT ? AS name, ? AS type, ? AS url, ? AS channel", [s.name, s.type, s.url, s.channel],
            update="type = excluded.type, url = excluded.url, channel = excluded.channel")
