"""The CLI is the product's front door: every command documented, every command configurable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from radar.app.cli import COMMANDS as TABLE
from radar.app.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CTX = click.Context(cli)
COMMANDS = cli.list_commands(CTX)


def command(name: str) -> click.Command:
    return cli.get_command(CTX, name)


def every_command():
    """(full name, command) for every command and subcommand."""
    for name in COMMANDS:
        cmd = command(name)
        yield name, cmd
        if isinstance(cmd, click.Group):
            for sub, subcmd in cmd.commands.items():
                yield f"{name} {sub}", subcmd


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in COMMANDS if not re.search(rf"`radar {c}\b", readme)]
    assert not missing, f"commands not documented in README.md: {missing}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_takes_config(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "--config" in result.output
    assert command(name).help


@pytest.mark.parametrize("name", COMMANDS)
def test_lazy_summary_matches_the_commands_help(name):
    # `radar --help` lists the summaries without importing the commands; they must not drift.
    assert command(name).help.splitlines()[0] == TABLE[name][2]


def test_every_option_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for full, cmd in every_command():
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            names = [o for o in param.opts if o.startswith("--")] or param.opts
            if names[0] in ("--config", "--help"):
                continue  # documented once for every command
            if not any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", readme) for n in names):
                missing.append(f"radar {full} {names[0]}")
    assert not missing, f"options not documented in README.md: {missing}"


def test_unknown_command_is_an_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_help_starts_fast_without_heavy_imports():
    # BERTopic/UMAP (numba), torch, Scrapy and Streamlit must stay out of start-up.
    code = (
        "import sys; from radar.app.cli import cli; "
        "heavy = [m for m in ('torch', 'bertopic', 'umap', 'numba', 'scrapy', 'streamlit', 'spacy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_loading_every_command_imports_no_model_library():
    # A command's module is imported before it runs: `radar analyze` imported spaCy (and with
    # it thinc and torch, ~2 s and ~300 MB) before the NLP stage could load it without torch.
    code = (
        "import sys, click; from radar.app.cli import cli; ctx = click.Context(cli); "
        "[cli.get_command(ctx, n) for n in cli.list_commands(ctx)]; "
        "heavy = [m for m in ('torch', 'thinc', 'spacy', 'umap', 'numba', 'onnxruntime', "
        "'transformers', 'sklearn') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_init_never_overwrites_an_existing_config(tmp_path, salt):
    config = tmp_path / "radar.toml"
    config.write_text("[warehouse]\npath = 'mine.duckdb'\n# my notes\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "kept existing" in result.output
    assert "# my notes" in config.read_text()
    assert (tmp_path / "mine.duckdb").exists()


def test_init_creates_owner_only_salt_outside_the_warehouse_folder(tmp_path, monkeypatch, salt_dir):
    monkeypatch.delenv("RADAR_PSEUDONYM_SALT", raising=False)
    config = tmp_path / "radar.toml"
    result = CliRunner().invoke(cli, ["init", "--config", str(config)])
    assert result.exit_code == 0, result.output
    (salt,) = salt_dir.glob("radar-*.salt")
    assert not list(tmp_path.glob("*.salt"))  # nothing beside the warehouse
    assert salt.stat().st_mode & 0o777 == 0o400
    assert len(salt.read_text().strip()) == 64
    # The salt never goes inside the warehouse.
    assert salt.read_text().strip().encode() not in (tmp_path / "radar.duckdb").read_bytes()
    first = salt.read_text()
    CliRunner().invoke(cli, ["init", "--config", str(config)])
    assert salt.read_text() == first


def test_status_on_a_fresh_warehouse_says_what_to_do(project):
    result = CliRunner().invoke(cli, ["status", "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert "0 documents" in result.output and "radar import" in result.output


def test_status_check_finds_ids_written_twice_outside_the_radar(project):
    """The unkeyed tables hold unique ids only by the radar's own writes: `--check` says so,
    or names each table with repeated ids and exits 1."""
    from radar.core import warehouse
    from radar.core.config import load_config

    clean = CliRunner().invoke(cli, ["status", "--check", "--config", str(project)])
    assert clean.exit_code == 0, clean.output
    assert "no id repeated in the 9 tables checked" in clean.output
    path = load_config(project).warehouse_path
    with warehouse.write(path) as con:
        for _ in range(3):  # the same document three times, by plain INSERTs
            con.execute("INSERT INTO documents (doc_id, text, fetched_at, source, channel, "
                        "content_hash) VALUES ('d1', 't', '2026-01-01', 's', 'news', 'h')")
        con.execute("INSERT INTO document_sources (doc_id, source) VALUES ('d1', 's'), ('d1', 's'), "
                    "('d1', 'other')")
    found = CliRunner().invoke(cli, ["status", "--check", "--config", str(project)])
    assert found.exit_code == 1, found.output
    check = found.output.split("Ids written more than once")[1]
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in check.splitlines() if line.count("│") == 3}
    assert rows == {"documents": "2", "document_sources": "1"}
    assert "remove the extra rows" in found.output
    plain = CliRunner().invoke(cli, ["status", "--config", str(project)])
    assert plain.exit_code == 0 and "Ids written more than once" not in plain.output


def test_status_without_init_is_a_clear_error(tmp_path, salt):
    config = tmp_path / "radar.toml"
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert result.exit_code == 2
    assert "radar init" in result.output


def test_export_writes_every_table_to_parquet(tmp_path, project):
    import pyarrow.parquet as pq

    data = tmp_path / "in.csv"
    data.write_text("url,title,text,published_at,source,channel\n"
                    "https://a.example/1,A,some text here,2026-01-01,s,news\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", str(data), "--config", str(project)]).exit_code == 0
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", "--format", "parquet", str(out), "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out / "documents.parquet").num_rows == 1
    assert {"sources.parquet", "crawl_runs.parquet", "fetch_errors.parquet",
            "schema_version.parquet"} <= {p.name for p in out.iterdir()}
