"""A copy of the warehouse to experiment on (plants, replays); the real one is never touched."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from nlp.topic_step import models_dir
from radar.core import warehouse
from radar.core.config import Config, WarehouseConfig
from radar.core.privacy import salt_path


def copy_warehouse(cfg: Config, workdir: Path, with_models: bool = True) -> Config:
    """Copy the warehouse (and its salt file) into `workdir`; a Config pointing at the copy.
    `with_models` also copies the fitted topic models (a replay starts without them)."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    src = cfg.warehouse_path
    dst = workdir / src.name
    with warehouse.read(src):  # no writer mid-batch while we copy
        shutil.copy2(src, dst)
        wal = src.with_name(src.name + ".wal")
        if wal.exists():
            shutil.copy2(wal, dst.with_name(dst.name + ".wal"))
    if salt_path(src).exists():
        shutil.copy2(salt_path(src), salt_path(dst))
    copy = dataclasses.replace(cfg, warehouse=WarehouseConfig(path=str(dst)))
    copy.path = workdir / "radar.toml"
    # Fitted topic models live beside the warehouse; the copy needs its own.
    if with_models and models_dir(cfg).exists():
        shutil.copytree(models_dir(cfg), models_dir(copy), dirs_exist_ok=True)
    return copy
