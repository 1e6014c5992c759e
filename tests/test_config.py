"""radar.toml validation: every mistake names the file, the key and what was expected."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from radar.app.cli import cli
from radar.app.init_project import config_template
from radar.core.config import Config, ConfigError, load_config


def write(tmp_path, text: str):
    path = tmp_path / "radar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_template_written_by_init_loads_with_defaults(tmp_path):
    cfg = load_config(write(tmp_path, config_template()))
    assert cfg.warehouse.path == "radar.duckdb"
    assert cfg.warehouse_path == tmp_path / "radar.duckdb"
    assert cfg.sources == []
    assert {a.name for a in cfg.areas} >= {"libraries", "transport", "housing"}


@pytest.mark.parametrize(("period", "baseline"), [("day", 182), ("week", 26), ("month", 6),
                                                  ("quarter", 6), ("year", 6)])
def test_the_baseline_covers_six_periods_and_at_least_half_a_year(tmp_path, period, baseline):
    template = config_template().replace('period = "month"', f'period = "{period}"', 1)
    assert f'period = "{period}"' in template
    assert load_config(write(tmp_path, template)).scoring.baseline_periods == baseline
    pinned = template.replace("[scoring]\n", "[scoring]\nbaseline_periods = 4\n")
    assert load_config(write(tmp_path, pinned)).scoring.baseline_periods == 4


def test_minimum_shape_from_the_issue(tmp_path):
    cfg = load_config(write(tmp_path, """
[warehouse]
path = "data/radar.duckdb"
[[sources]]
name = "city-news"
type = "feed"
url = "https://example.org/news.rss"
channel = "news"
"""))
    assert cfg.warehouse_path == tmp_path / "data" / "radar.duckdb"
    assert cfg.source("city-news").channel == "news"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[warehouse]\npth = 'x'\n", "warehouse.pth: unknown key (expected one of: path, reader_copy_every, backend, catalog, data_path, password_env)"),  # noqa: E501
        ("[crawl]\nmax_pages = 'many'\n", "crawl.max_pages: expected an integer, got a string"),
        ("[crawl]\nobey_robots = 1\n", "crawl.obey_robots: expected true or false"),
        ("[crawl]\nmax_pages = true\n", "crawl.max_pages: expected an integer, got a boolean"),
        (
            "[[sources]]\nname='a'\ntype='feed'\nchannel='news'\n",
            "sources[0].url: required field is missing (a string)",
        ),
        (
            "[[sources]]\nname='a'\ntype='blog'\nurl='u'\nchannel='news'\n",
            "sources[0].type: expected one of feed | sitemap | listing | forum | export, got 'blog'",
        ),
        (
            "[[sources]]\nname='a'\ntype='feed'\nurl='u'\nchannel='tv'\n",
            "sources[0].channel: expected one of news | policy | citizen",
        ),
        (
            "[[sources]]\nname='a'\ntype='feed'\nurl='u'\nchannel='news'\n"
            "[[sources]]\nname='a'\ntype='feed'\nurl='v'\nchannel='news'\n",
            "sources[1].name: duplicate value 'a'",
        ),
        ("[analysis]\nstop_words = 'council'\n", "analysis.stop_words: expected a list of a string"),
        ("colour = 'blue'\n", "colour: unknown key"),
        ("[warehouse\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_file_is_an_error_that_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="radar init"):
        load_config(tmp_path / "nope.toml")
    assert isinstance(load_config(tmp_path / "nope.toml", required=False), Config)


def test_config_path_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "[warehouse]\npath = 'env.duckdb'\n")
    monkeypatch.setenv("RADAR_CONFIG", str(path))
    assert load_config().warehouse.path == "env.duckdb"


def test_cli_reports_config_error_without_traceback(tmp_path):
    path = write(tmp_path, "[crawl]\nmax_pages = -'x'\n")
    result = CliRunner().invoke(cli, ["status", "--config", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_no_secret_keys_in_config(tmp_path):
    # The SMTP password and the salt come from the environment, never from the file.
    path = write(tmp_path, "[smtp]\npassword = 'hunter2'\n")
    with pytest.raises(ConfigError, match="smtp.password: unknown key"):
        load_config(path)
