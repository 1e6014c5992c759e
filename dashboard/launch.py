"""How `radar dashboard` starts Streamlit on dashboard/app.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from radar.core.config import CONFIG_ENV, Config

APP = Path(__file__).with_name("app.py")


def streamlit_command(cfg: Config, port: int | None = None,
                      host: str = "127.0.0.1") -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run the dashboard for `cfg`."""
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port or cfg.dashboard.port),
        "--server.address", host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",
        "--global.developmentMode", "false",
    ]
    env = dict(os.environ)
    if cfg.path:
        env[CONFIG_ENV] = str(cfg.path)
    return argv, env
