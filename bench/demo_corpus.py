"""The demo's documents as `radar import` rows, for benches that analyse the demo corpus.

    from bench.demo_corpus import demo_rows, demo_config
    rows = demo_rows(Path("/tmp/radar-demo-corpus"))   # builds the demo there first if needed

The demo (`radar demo --no-dashboard`) crawls its local web of news, policy papers and
forum posts into a warehouse. Its documents are read back as import rows: URL, title, text,
publication time, source, channel and, for forum posts, the stored author pseudonym as
the author (the importer pseudonymises it again, so each author stays one distinct voice).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_demo(folder: Path, timeout: float = 1800) -> Path:
    """The demo's folder, built by `radar demo --no-dashboard` unless it holds a warehouse."""
    folder = folder.resolve()
    if not (folder / "radar.duckdb").exists():
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "radar.app.cli", "demo", "--no-dashboard", "--folder", str(folder)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"radar demo failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return folder


def demo_rows(folder: Path) -> list[dict]:
    """Every document the demo in `folder` crawled (built first if needed), in doc_id order."""
    import duckdb

    folder = build_demo(folder)
    con = duckdb.connect(str(folder / "radar.duckdb"), read_only=True)
    try:
        rows = con.execute("""
            SELECT url, title, text, strftime(published_at, '%Y-%m-%dT%H:%M:%S') AS published_at,
                   source, channel, author_hash AS author
            FROM documents ORDER BY doc_id""").fetchall()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    return [{k: v for k, v in zip(names, r, strict=True) if v is not None} for r in rows]


def demo_config(folder: Path, embedder: str) -> str:
    """The demo's radar.toml (monthly periods, its service catalogue) for a project whose
    warehouse is `radar.duckdb` beside it, with `embedder` for the analysis."""
    text = (folder / "radar.toml").read_text(encoding="utf-8")
    if "\n[analysis]\n" not in text:
        raise SystemExit(f"{folder / 'radar.toml'} has no [analysis] table")
    return text.replace("\n[analysis]\n", f'\n[analysis]\nembedder = "{embedder}"\n', 1)
