"""Shared test fixtures: a fresh project folder, a real DuckDB warehouse, no internet."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

# Models load from installed packages only; never from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def pytest_configure(config):
    """The project's bytecode, compiled once before the workers and the commands the tests
    start: with PYTHONDONTWRITEBYTECODE=1 (as on the machines here) every one of those
    processes compiled the project's ~100 modules again (0.3-0.4 s each); an installed
    radar has its bytecode (bench/bytecode.py)."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller has compiled it
    from bench.bytecode import compile_project

    compile_project()


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # a Unix socket path
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any connection from the test process to a non-loopback address fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self, address):
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def guarded_ex(self, address):
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


@pytest.fixture(autouse=True)
def real_main_module():
    """Streamlit's AppTest installs the dashboard script as `sys.modules["__main__"]` and
    leaves it there; a process started later with multiprocessing's spawn (the ONNX export
    child, Dask workers) would then run the dashboard instead of starting. Put it back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def salt_dir(tmp_path_factory, monkeypatch) -> Path:
    """Salt files go to a temporary folder, never the tester's ~/.config."""
    path = tmp_path_factory.mktemp("salts")
    monkeypatch.setenv("RADAR_SALT_DIR", str(path))
    return path


@pytest.fixture
def salt(monkeypatch) -> str:
    """A pseudonymisation salt in the environment, as in production."""
    value = "test-salt-not-secret"
    monkeypatch.setenv("RADAR_PSEUDONYM_SALT", value)
    return value


@pytest.fixture
def project(tmp_path, salt, monkeypatch) -> Path:
    """An initialised project folder (radar.toml + warehouse); returns the config path."""
    from radar.app.init_project import init_project

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "radar.toml"
    init_project(config)
    return config


@pytest.fixture
def warehouse_path(project) -> Path:
    """The warehouse file of the `project` fixture."""
    from radar.core.config import load_config

    return load_config(project).warehouse_path


@pytest.fixture
def server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it accepts."""
    from alerts_fixtures import SmtpServer

    srv = SmtpServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on 127.0.0.1 for this test session (tests/pg_server.py)."""
    import port_for
    from pg_server import PgServer

    srv = PgServer(port_for.select_random()).start()
    yield srv
    srv.stop()


@pytest.fixture
def lake_catalog(pg_server, request) -> str:
    """A fresh PostgreSQL database for one DuckLake catalog; returns the `catalog` setting."""
    import re
    import uuid

    name = "lake_" + re.sub(r"\W", "_", request.node.name.lower())[:30] + "_" + uuid.uuid4().hex[:8]
    pg_server.create_database(name)
    return "postgres:" + pg_server.dsn(name)


def use_lake(config: Path, catalog: str) -> None:
    """Turn a project's radar.toml to the DuckLake backend (data files beside it)."""
    text = config.read_text(encoding="utf-8")
    text = text.replace("[warehouse]\n", f'[warehouse]\nbackend = "ducklake"\ncatalog = "{catalog}"\n'
                        'data_path = "lake"\n', 1)
    assert 'backend = "ducklake"' in text, "radar.toml has no [warehouse] section"
    config.write_text(text, encoding="utf-8")


@pytest.fixture(params=["duckdb", "ducklake"])
def backend_project(request, tmp_path, salt, monkeypatch) -> Path:
    """An initialised project on each warehouse backend: the embedded DuckDB file, and
    DuckLake with its catalog in a real PostgreSQL; returns the config path."""
    from radar.app.init_project import config_template, init_project

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "radar.toml"
    config.write_text(config_template(), encoding="utf-8")
    if request.param == "ducklake":
        use_lake(config, request.getfixturevalue("lake_catalog"))
    init_project(config)
    return config


# The slowest test files (seconds, `pytest -n 2 --durations` on 2026-12-04). Under
# pytest-xdist's worksteal each worker first gets a contiguous share of the collection
# and idle workers steal from the end of the others' queues: so each share starts with
# its part of the slow files, balanced, and no 70-second test is left for the end.
SLOW_FILES = {
    "test_demo_e2e.py": 75, "test_decisions_e2e.py": 80, "test_backtest_replay.py": 70,
    "test_reader_copy.py": 55, "test_crawl_forums.py": 60, "test_pipeline.py": 65,
    "test_crawl_feeds.py": 100, "test_crawl_distributed.py": 70, "test_nlp_pipeline.py": 40,
    "test_scale_concurrent.py": 33, "test_backtest.py": 60, "test_privacy_access_e2e.py": 30,
    "test_writer_lock.py": 25, "test_radar_picture_e2e.py": 22, "test_nlp_cluster.py": 25,
    "test_nlp_embedders.py": 30, "test_crawl_broken_pages.py": 32,
}


def pytest_collection_modifyitems(config, items):
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if workers < 2 or not items:
        return
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(Path(str(item.fspath)).name, []).append(item)
    slow = sorted((f for f in groups if f in SLOW_FILES), key=lambda f: -SLOW_FILES[f])
    lanes: list[list] = [[] for _ in range(workers)]
    loads = [0] * workers
    for name in slow:
        i = loads.index(min(loads))
        lanes[i].extend(groups[name])
        loads[i] += SLOW_FILES[name]
    rest = [it for it in items if Path(str(it.fspath)).name not in SLOW_FILES]
    ordered: list = []
    remaining = len(items)
    for i, lane in enumerate(lanes):  # the shares worksteal hands out, in order
        share = remaining // (workers - i)
        fill = max(0, share - len(lane))
        ordered.extend(lane + rest[:fill])
        rest = rest[fill:]
        remaining -= len(lane) + fill
    ordered.extend(rest)
    assert len(ordered) == len(items)
    items[:] = ordered
