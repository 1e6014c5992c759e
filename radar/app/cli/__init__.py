"""The `radar` command: a thin layer that wires the stages' library functions.

Each command lives in a module of this package by concern (project, ingest,
analysis, alerting, service); each parses its options, calls one library
function and renders the result. The group loads a command's module only when
that command runs, so `radar --help` and `radar status` never import Scrapy,
spaCy, torch, BERTopic or Streamlit. The summaries below are what `radar --help`
lists; a test checks that they match the commands' own help.
"""

from __future__ import annotations

import importlib

import click

from radar.app.cli.common import setup_logging

#: command name -> (module in this package, attribute, one-line summary for `radar --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("project", "init", "Create radar.toml (commented defaults, never overwritten), the warehouse "
                                "and the salt."),
    "status": ("project", "status", "Documents per channel and source, the last crawl per source, "
                                    "recent errors."),
    "export": ("project", "export", "Write the warehouse for analysts (Parquet files or a DuckDB copy), "
                                    "without personal data."),
    "forget": ("privacy", "forget", "Erase a person's documents (by pseudonym or URL) with their "
                                    "passages, embeddings and"),
    "salt": ("privacy", "salt", "The pseudonymisation salt: where it is, and `--rotate` to "
                                "re-pseudonymise with a new key."),
    "import": ("ingest", "import_", "Load documents from JSON Lines, CSV or Parquet (url, title, text, "
                                    "published_at, source,"),
    "crawl": ("ingest", "crawl", "Fetch new and changed documents from the configured sources into the "
                                 "warehouse."),
    "analyze": ("analysis", "analyze", "Find passages, embeddings, topics and their time series in new "
                                       "documents, then score the"),
    "backtest": ("analysis", "backtest", "Replay the periods with causal scoring: when would the radar "
                                         "have flagged each event in"),
    "brief": ("loop", "brief", "Make a brief of a signal (topic) or a service as HTML and PDF, ready for "
                               "a board."),
    "services": ("loop", "services", "The service catalogue sorted by exposure; add services, confirm "
                                     "or reject topic matches."),
    "watch": ("loop", "watch", "The watch list with each theme's trajectory; add themes to watch."),
    "decisions": ("loop", "decisions_", "Decisions on the loop, the reassessment queue; record decisions, "
                                       "steps and signposts."),
    "alert": ("alerting", "alert", "E-mail subscribers the topics that entered the radar or moved closer "
                                   "(exactly once)."),
    "subscriptions": ("alerting", "subscriptions", "List subscriptions (radar.toml entries plus those "
                                                   "added here); change them."),
    "run": ("service", "run", "Crawl, analyse and alert as one pipeline (never two at once). Exit 0: all "
                              "succeeded;"),
    "serve": ("service", "serve", "Run `radar run` on the [schedule] cron and serve the dashboard; SIGTERM "
                                  "finishes the"),
    "dashboard": ("service", "dashboard", "Start the Streamlit dashboard (radar, topics, signals, triage, "
                                          "search, sources)."),
    "demo": ("service", "demo", "Build a demo radar offline: a local news/policy/forum web, crawled and "
                                "analysed, then"),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (kept lazy on purpose: start-up time)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"radar.app.cli.{module}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(n) for n in COMMANDS)
        rows = [(name, _shorten(COMMANDS[name][2], width)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    text = text.rstrip(",; ")
    return text if len(text) <= limit else text[: max(limit - 3, 10)].rsplit(" ", 1)[0] + "..."


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
@click.version_option(package_name="horizon-radar")
def cli(log_level: str) -> None:
    """Horizon Radar: watch the outside world and see early what is rising."""
    setup_logging(log_level)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="radar")
