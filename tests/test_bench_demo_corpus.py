"""bench/demo_corpus.py: the demo's crawled documents read back as import rows, and its config."""

from __future__ import annotations

import json
from pathlib import Path

from bench.demo_corpus import demo_config, demo_rows
from crawlers.importer import import_file
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import load_config

ROWS = [
    {"url": "https://news.example/a/1", "title": "Makerspace opens", "source": "gazette",
     "text": "The library opened a makerspace with laser cutters and 3D printers.",
     "published_at": "2026-03-01T10:00:00", "channel": "news"},
    {"url": "https://gov.example/p/2", "title": "Heat pump grants", "source": "council",
     "text": "The council proposes grants for heat pumps in social housing.",
     "published_at": "2026-04-02T08:30:00", "channel": "policy"},
    *({"url": f"https://forum.example/t/{i}", "title": "Library hours", "source": "forum",
       "text": f"Post {i}: the branch should open on Sundays, it is closed when we are free.",
       "published_at": f"2026-05-0{i + 1}T12:00:00", "channel": "citizen", "author": who}
      for i, who in enumerate(["reader one", "reader two", "reader one"])),
]

CONFIG = '[warehouse]\npath = "radar.duckdb"\n\n[analysis]\nperiod = "month"\n'


def _project(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir()
    (folder / "radar.toml").write_text(CONFIG, encoding="utf-8")
    init_project(folder / "radar.toml")
    data = folder / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    import_file(data, load_config(folder / "radar.toml").warehouse_path)
    return folder


def _documents(folder: Path) -> list[tuple]:
    with warehouse.read(folder / "radar.duckdb") as con:
        return con.execute("SELECT url, title, text, published_at, source, channel, author_hash "
                           "FROM documents ORDER BY url").fetchall()


def test_demo_rows_import_as_the_same_documents_with_the_same_voices(tmp_path, salt):
    demo = _project(tmp_path / "demo", ROWS)  # stands for a crawled demo: it holds a warehouse
    rows = demo_rows(demo)
    assert len(rows) == len(ROWS)
    copy = _project(tmp_path / "copy", rows)
    before, after = _documents(demo), _documents(copy)
    assert [d[:6] for d in after] == [d[:6] for d in before]
    # Forum posts keep their authors apart (pseudonymised once more, as any import does).
    authors = [d[6] for d in after if d[5] == "citizen"]
    assert None not in authors and authors[0] == authors[2] != authors[1]
    assert all(d[6] is None for d in after if d[5] != "citizen")


def test_demo_config_sets_the_embedder_under_analysis_and_keeps_the_rest(tmp_path):
    (tmp_path / "radar.toml").write_text(CONFIG + '\n[dashboard]\nport = 8599\n', encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    (work / "radar.toml").write_text(demo_config(tmp_path, "onnx"), encoding="utf-8")
    cfg = load_config(work / "radar.toml")
    assert (cfg.analysis.embedder, cfg.analysis.period) == ("onnx", "month")
    assert cfg.dashboard.port == 8599
    assert cfg.warehouse_path == (work / "radar.duckdb").resolve()
