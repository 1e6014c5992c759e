"""Decision-loop commands: `radar brief`, `radar services`, `radar watch`, `radar decisions`."""

from __future__ import annotations

from pathlib import Path

import click

from radar.app.cli.common import config_option, fail, friendly_errors, load, subcommand_config
from radar.core import brief as brief_mod
from radar.core import catalogue, decisions, exposure, loop, warehouse
from radar.core.brief_render import PdfUnavailable, render_html, render_pdf
from radar.core.config import Config


def _call(action):
    try:
        return action()
    except (catalogue.CatalogueError, decisions.DecisionError, brief_mod.BriefError) as exc:
        fail(str(exc))


def _service_id(cfg: Config, ref: str) -> int:
    """A service by id or (case-insensitive) name."""
    for s in catalogue.services(cfg.warehouse_path, include_inactive=True):
        if ref.isdigit() and s.service_id == int(ref) or s.name.lower() == ref.lower():
            return s.service_id
    fail(f"no service {ref!r} in the catalogue (see `radar services`)")


# --- brief ------------------------------------------------------------------------------------


@click.command()
@click.option("--topic", "topic_id", type=int, help="The signal (topic id) to brief on.")
@click.option("--service", "service_ref", help="The service (name or id) to brief on.")
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this .html or .pdf file (default: both, brief-<kind>-<id>.html/.pdf here).")
@config_option
@friendly_errors
def brief(topic_id: int | None, service_ref: str | None, out: Path | None, config_path: Path) -> None:
    """Make a brief of a signal (topic) or a service as HTML and PDF, ready for a board."""
    cfg = load(config_path)
    if (topic_id is None) == (service_ref is None):
        fail("give either --topic N or --service NAME")
    service_id = _service_id(cfg, service_ref) if service_ref else None
    b = _call(lambda: brief_mod.gather(cfg.warehouse_path, cfg, topic_id=topic_id, service_id=service_id))
    html = render_html(b)
    stem = f"brief-{'topic' if topic_id is not None else 'service'}-{topic_id or service_id}"
    targets = [out] if out else [Path(f"{stem}.html"), Path(f"{stem}.pdf")]
    for target in targets:
        if target.suffix.lower() not in (".html", ".pdf"):
            fail(f"{target}: the brief is written as .html or .pdf")
        if target.suffix.lower() == ".pdf":
            try:
                target.write_bytes(render_pdf(html))
            except PdfUnavailable as exc:
                fail(str(exc))
        else:
            target.write_text(html, encoding="utf-8")
        click.echo(f"wrote {target}")


# --- services ---------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.pass_context
@config_option
@friendly_errors
def services(ctx: click.Context, config_path: Path) -> None:
    """The service catalogue sorted by exposure; add services, confirm or reject topic matches."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    cfg = load(config_path)
    catalogue.sync_config(cfg.warehouse_path, cfg)
    with warehouse.read(cfg.warehouse_path) as con:
        table = exposure.ranking(con, cfg.analysis.period)
    if table.empty:
        click.echo("No services yet: add [[services]] to radar.toml or run `radar services add`.")
        return
    click.echo(f"{'id':>4}  {'exposure':>8}  {'topics':>6}  {'rising':>6}  {'gap':>4}  "
               "service (owner): top topics")
    for r in table.itertuples():
        top = "; ".join(r.top) if r.top else "–"
        click.echo(f"{r.service_id:>4}  {r.exposure:>8.2f}  {r.topics:>6}  {r.rising:>6}  "
                   f"{r.gap_topics:>4}  {r.name} ({r.owner or 'no owner'}): {top}")


@services.command("add")
@click.argument("name")
@click.option("--owner", default="", help="Who is responsible for the service.")
@click.option("--owner-email", default="", help="Where trigger notices for its decisions may go.")
@click.option("--area", default="", help="Its service area (a [[areas]] name).")
@click.option("--description", default="", help="What the service is, in a sentence.")
@click.option("--keyword", "keywords", multiple=True, help="A keyword to match topics on (repeatable).")
@click.option("--by", "who", required=True, help="Your name (recorded).")
@subcommand_config
@friendly_errors
def services_add(config_path: Path, name: str, owner: str, owner_email: str, area: str,
                 description: str, keywords, who: str) -> None:
    """Add a service to the catalogue (kept in the warehouse; radar.toml is not edited)."""
    cfg = load(config_path)
    s = _call(lambda: catalogue.add_service(cfg.warehouse_path, name, owner=owner, owner_email=owner_email,
                                            area=area, description=description, keywords=keywords,
                                            who=who, origin="cli"))
    click.echo(f"added service #{s.service_id} {s.name}; `radar analyze` matches it to topics")


@services.command("matches")
@click.argument("service_ref")
@subcommand_config
@friendly_errors
def services_matches(config_path: Path, service_ref: str) -> None:
    """The topics matched to a service, with score, evidence and review status."""
    cfg = load(config_path)
    sid = _service_id(cfg, service_ref)
    with warehouse.read(cfg.warehouse_path) as con:
        rows = exposure.service_topics(con)
    rows = rows[rows["service_id"] == sid]
    if rows.empty:
        click.echo("No topics matched yet (run `radar analyze`).")
    for r in rows.itertuples():
        hits = ", ".join(r.keyword_hits) if len(r.keyword_hits) else "–"
        sim = "–" if r.similarity is None or r.similarity != r.similarity else f"{r.similarity:.2f}"
        click.echo(f"topic {r.topic_id:>4}  match {r.match:.2f}  similarity {sim}  keywords: {hits}  "
                   f"[{r.status}]  {r.label} ({r.ring or 'off the radar'})")


def _review(verdict: str):
    @click.argument("service_ref")
    @click.argument("topic_id", type=int)
    @click.option("--by", "who", required=True, help="Your name (recorded).")
    @click.option("--note", default="", help="Why.")
    @subcommand_config
    @friendly_errors
    def command(config_path: Path, service_ref: str, topic_id: int, who: str, note: str) -> None:
        cfg = load(config_path)
        sid = _service_id(cfg, service_ref)
        _call(lambda: catalogue.review_match(cfg.warehouse_path, sid, topic_id, verdict, who, note))
        click.echo(f"{verdict}: topic {topic_id} touches service #{sid}" if verdict == "confirmed"
                   else f"{verdict}: topic {topic_id} does not touch service #{sid}")

    command.__doc__ = ("Confirm that a topic touches a service." if verdict == "confirmed"
                       else "Reject a suggested topic-service match.")
    return command


services.command("confirm")(_review("confirmed"))
services.command("reject")(_review("rejected"))


# --- watch ------------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.pass_context
@config_option
@friendly_errors
def watch(ctx: click.Context, config_path: Path) -> None:
    """The watch list with each theme's trajectory; add themes to watch."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    cfg = load(config_path)
    catalogue.sync_config(cfg.warehouse_path, cfg)
    items = catalogue.watch_items(cfg.warehouse_path)
    if not items:
        click.echo("The watch list is empty: add [[watch]] to radar.toml or run `radar watch add`.")
        return
    with warehouse.read(cfg.warehouse_path) as con:
        for w in items:
            series = con.execute(
                "SELECT period_start, sum(passages)::INTEGER, sum(sources)::INTEGER, "
                "sum(authors)::INTEGER FROM watch_periods WHERE watch_id = ? GROUP BY 1 ORDER BY 1 DESC "
                "LIMIT 6", [w.watch_id]).fetchall()
            trail = ", ".join(f"{p:%Y-%m-%d}: {n} ({s} src, {a} auth)" for p, n, s, a in series) or \
                "no matching passages yet"
            click.echo(f"#{w.watch_id} {w.name}: {trail}")


@watch.command("add")
@click.argument("name")
@click.option("--description", default="", help="The theme in a sentence (matched by meaning).")
@click.option("--keyword", "keywords", multiple=True, help="A keyword (repeatable; whole words).")
@click.option("--area", default="", help="Only subscribers of this service area are told.")
@click.option("--by", "who", required=True, help="Your name (recorded).")
@subcommand_config
@friendly_errors
def watch_add(config_path: Path, name: str, description: str, keywords, area: str, who: str) -> None:
    """Add a theme to the watch list (kept in the warehouse)."""
    cfg = load(config_path)
    w = _call(lambda: catalogue.add_watch(cfg.warehouse_path, name, description=description,
                                          keywords=keywords, area=area, who=who, origin="cli"))
    click.echo(f"watching #{w.watch_id} {w.name}; `radar analyze` follows it")


# --- decisions --------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.pass_context
@config_option
@friendly_errors
def decisions_(ctx: click.Context, config_path: Path) -> None:
    """Decisions on the loop, the reassessment queue; record decisions, steps and signposts."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    cfg = load(config_path)
    with warehouse.read(cfg.warehouse_path) as con:
        rows = con.execute("SELECT c.decision_id, c.title, c.owner, c.step, c.step_at, "
                           "c.decision_id IN (SELECT decision_id FROM reassessment_queue) "
                           "FROM decision_current c ORDER BY c.decision_id").fetchall()
    if not rows:
        click.echo("No decisions yet: `radar decisions new` or the dashboard's Decisions page.")
    for did, title, owner, step, at, queued in rows:
        flag = "  ** reassess: a signpost fired **" if queued else ""
        click.echo(f"#{did} {title} (owner {owner}): {step} since {at:%Y-%m-%d}{flag}")


decisions_.name = "decisions"


@decisions_.command("new")
@click.argument("title")
@click.option("--owner", required=True, help="Who answers for the decision.")
@click.option("--owner-email", default="", help="Where trigger notices go.")
@click.option("--topic", "topics", type=int, multiple=True, help="A signal (topic id) it is about.")
@click.option("--service", "service_refs", multiple=True, help="A service (name or id) it is about.")
@click.option("--why", required=True, help="The need: why this is on the table.")
@click.option("--by", "who", required=True, help="Your name (recorded).")
@subcommand_config
@friendly_errors
def decisions_new(config_path: Path, title: str, owner: str, owner_email: str, topics, service_refs,
                  why: str, who: str) -> None:
    """Open a decision (its first step is need)."""
    cfg = load(config_path)
    sids = [_service_id(cfg, s) for s in service_refs]
    did = _call(lambda: decisions.create(cfg.warehouse_path, title, owner, who, why,
                                         owner_email=owner_email, topic_ids=topics, service_ids=sids))
    click.echo(f"decision #{did} opened (step: need)")


@decisions_.command("step")
@click.argument("decision_id", type=int)
@click.argument("step", type=click.Choice(loop.STEPS))
@click.option("--why", required=True, help="Why: what was found or decided.")
@click.option("--by", "who", required=True, help="Your name (recorded).")
@click.option("--equity", default="", help="Equity considerations weighed.")
@click.option("--sustainability", default="", help="Sustainability considerations weighed.")
@click.option("--satisfaction", default="", help="Citizen-satisfaction considerations weighed.")
@click.option("--trust", default="", help="Trust considerations weighed.")
@subcommand_config
@friendly_errors
def decisions_step(config_path: Path, decision_id: int, step: str, why: str, who: str, equity: str,
                   sustainability: str, satisfaction: str, trust: str) -> None:
    """Record the next step of a decision on the loop."""
    cfg = load(config_path)
    values = {"equity": equity, "sustainability": sustainability, "satisfaction": satisfaction,
              "trust": trust}
    s = _call(lambda: decisions.record_step(cfg.warehouse_path, decision_id, step, who, why, values))
    click.echo(f"decision #{decision_id}: {s.from_step} -> {s.step} by {s.who}")


@decisions_.command("signpost")
@click.argument("decision_id", type=int)
@click.argument("kind", type=click.Choice(loop.SIGNPOST_KINDS))
@click.argument("threshold", type=float)
@click.option("--topic", "topic_id", type=int, help="The topic the indicator is about.")
@click.option("--watch", "watch_id", type=int, help="The watch-list item (for watch_term).")
@click.option("--by", "who", required=True, help="Your name (recorded).")
@subcommand_config
@friendly_errors
def decisions_signpost(config_path: Path, decision_id: int, kind: str, threshold: float,
                       topic_id: int | None, watch_id: int | None, who: str) -> None:
    """Give a decision a signpost: an indicator with a threshold that brings it back."""
    cfg = load(config_path)
    sid = _call(lambda: decisions.add_signpost(cfg.warehouse_path, decision_id, kind, threshold, who,
                                               topic_id=topic_id, watch_id=watch_id))
    click.echo(f"signpost #{sid}: {loop.SIGNPOST_TEXT[kind].format(t=threshold)}")


@decisions_.command("queue")
@subcommand_config
@friendly_errors
def decisions_queue(config_path: Path) -> None:
    """Decisions whose signposts fired since their last reassessment."""
    cfg = load(config_path)
    with warehouse.read(cfg.warehouse_path) as con:
        rows = con.execute("SELECT decision_id, title, owner, fired_at, moved FROM reassessment_queue "
                           "ORDER BY fired_at").fetchall()
    if not rows:
        click.echo("The reassessment queue is empty.")
    for did, title, owner, fired, moved in rows:
        click.echo(f"#{did} {title} (owner {owner}), fired {fired:%Y-%m-%d %H:%M}: {moved}")
