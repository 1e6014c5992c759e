"""Signal quality: the radar's backtest on the development corpus and on the demo, one report.

    python bench/signal_quality.py                          # both, from scratch (slow)
    python bench/signal_quality.py --only corpus --folder /tmp/sq --reuse
    python bench/signal_quality.py --only demo --demo-folder /tmp/sq-demo --reuse
    python bench/signal_quality.py --topics stored           # the old, look-ahead topics
    python bench/signal_quality.py --only corpus --variant null --folder /tmp/sq-null
    python bench/signal_quality.py --only corpus --variant half --folder /tmp/sq-half
    python bench/signal_quality.py --only corpus --embedder onnx --folder /tmp/sq-fp32

Corpus (default ../shared/fixtures/ungdc-dev, yearly periods): run as a user
would, `radar init`, `radar import` of the corpus's JSONL, `radar analyze`,
`radar backtest events.csv` (prospective replay of topic discovery by default).
Demo: `radar demo --no-dashboard`, then a backtest of the planted themes of
radar/demo/planted.py (onset = the first channel's onset; the one-author tram
campaign must never be flagged: it is a narrow voice). `--reuse` skips import
and analysis (or the demo build) when the folder already holds a warehouse.

Prints per corpus: onsets flagged in their onset period within the top k,
recall within one period, precision@k, Act/Prepare topics per period after the
warm-up, false alarms, label readability, and the labels of the largest topics.
Figures are recorded in docs/scoring.md ("Signal quality").

Variants of the corpus (`--variant`, seeded by `--seed`), to judge the detector
on more than the one corpus it was developed on:
- `null`: every paragraph keeps its text but takes the date of another paragraph
  drawn at random (each period keeps its size): no theme rises or falls except
  by sampling noise, so every flag is a false alarm and a calibrated radar stays
  nearly quiet in every period.
- `half`: a random half of the paragraphs: the same onsets on thinner evidence.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "fixtures" / "ungdc-dev"

# Demo themes -> keywords the backtest matches (label/top terms, or half of a topic's passages).
DEMO_KEYWORDS = {
    "library-makerspaces": ["makerspace", "maker lab"],
    "self-service-libraries": ["self-service", "open-access", "card access", "24/7"],
    "e-scooter-parking": ["e-scooter", "scooter"],
    "heat-pump-grants": ["heat pump"],
    "digital-identity": ["digital identity", "digital id", "one login"],
    "public-toilets": ["public toilet", "toilets"],
}


def corpus_variant(corpus: Path, variant: str, seed: int, folder: Path) -> Path | None:
    """The corpus's JSONL rewritten as `variant` ("null" or "half") into `folder`; None for
    "as-is"."""
    import random

    if variant == "as-is":
        return None
    rows = [line for path in sorted(corpus.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = [json.loads(line) for line in rows]
    rng = random.Random(seed)
    if variant == "null":
        dates = [d["published_at"] for d in docs]
        rng.shuffle(dates)
        for d, when in zip(docs, dates, strict=True):
            d["published_at"] = when
    elif variant == "half":
        docs = rng.sample(docs, len(docs) // 2)
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{corpus.name}-{variant}-{seed}.jsonl"
    out.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return out


def radar(*args: str, cwd: Path, timeout: float = 7200) -> subprocess.CompletedProcess:
    """Run the radar CLI as a user would (same interpreter)."""
    cmd = [sys.executable, "-m", "radar.app.cli", *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "RADAR_PSEUDONYM_SALT": os.environ.get(
                              "RADAR_PSEUDONYM_SALT", "bench-salt-not-secret")})
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def corpus_run(corpus: Path, folder: Path, period: str, reuse: bool, topics: str,
               data: Path | None, embedder: str = "auto") -> dict:
    """import + analyze + backtest on a development corpus; the backtest JSON plus timings."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "radar.toml"
    took = {}
    if not (reuse and (folder / "radar.duckdb").exists()):
        radar("init", "--config", str(cfg), cwd=folder)
        text = cfg.read_text()
        text = text.replace('embedder = "auto"', f'embedder = "{embedder}"', 1)
        cfg.write_text(text.replace('period = "month"', f'period = "{period}"', 1))
        t0 = time.monotonic()
        for jsonl in ([data] if data else sorted(corpus.glob("*.jsonl"))):
            radar("import", "--config", str(cfg), str(jsonl), cwd=folder)
        took["import"] = time.monotonic() - t0
        t0 = time.monotonic()
        radar("analyze", "--config", str(cfg), cwd=folder)
        took["analyze"] = time.monotonic() - t0
    t0 = time.monotonic()
    out = folder / "backtest.json"
    radar("backtest", str(corpus / "events.csv"), "--topics", topics, "--json", str(out),
          "--config", str(cfg), cwd=folder)
    took["backtest"] = time.monotonic() - t0
    return {"report": json.loads(out.read_text()), "seconds": took}


def demo_events(folder: Path) -> Path:
    """An events CSV for the demo's planted themes (onsets from the demo's last month)."""
    import duckdb

    from radar.app.demo.planted import PLANTED

    con = duckdb.connect(str(folder / "radar.duckdb"), read_only=True)
    last = con.execute("SELECT max(date_trunc('month', published_at)) FROM documents").fetchone()[0]
    con.close()
    last = last.date() if hasattr(last, "date") else last
    path = folder / "planted_events.csv"
    lines = ["name,keywords,onset"]
    for theme in PLANTED:
        if theme.key not in DEMO_KEYWORDS:
            continue
        back = min(o.month for o in theme.onsets.values())
        y, m = divmod(last.year * 12 + last.month - 1 + back, 12)
        lines.append(f"{theme.key},{'|'.join(DEMO_KEYWORDS[theme.key])},{date(y, m + 1, 15)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def demo_run(folder: Path, reuse: bool, topics: str) -> dict:
    """Build the demo (or reuse it) and backtest its planted themes."""
    took = {}
    if not (reuse and (folder / "radar.duckdb").exists()):
        t0 = time.monotonic()
        radar("demo", "--no-dashboard", "--folder", str(folder), cwd=folder.parent)
        took["demo"] = time.monotonic() - t0
    events = demo_events(folder)
    out = folder / "backtest.json"
    t0 = time.monotonic()
    radar("backtest", str(events), "--topics", topics, "--json", str(out),
          "--config", str(folder / "radar.toml"), cwd=folder)
    took["backtest"] = time.monotonic() - t0
    report = json.loads(out.read_text())
    import duckdb

    con = duckdb.connect(str(folder / "radar.duckdb"), read_only=True)
    tram = con.execute("""
        SELECT count(*) FROM radar_latest r JOIN topics t USING (topic_id)
        WHERE lower(t.label) LIKE '%tram%' AND r.ring IN ('Act', 'Prepare')""").fetchone()[0]
    con.close()
    return {"report": report, "seconds": took, "tram_flagged": tram}


def summary(name: str, result: dict) -> list[str]:
    """The figures of one backtest as printable lines."""
    r = result["report"]
    lines = [f"== {name} ({r['topics_mode']} topics, {r['periods']} {r['period']}s, "
             f"{r['topics']} topics)"]
    lines.append(f"onsets flagged in their onset {r['period']} within the top {r['k']}: "
                 f"{r['onsets_in_top_k']} of {r['onsets_countable']} past the warm-up "
                 f"({len(r['events'])} events)")
    prec = r["precision_at_k"]
    lines.append(f"recall within {r['tolerance']} period: {r['recall']:.2f}; precision@{r['k']}: "
                 + ("n/a" if prec is None else f"{prec:.2f}")
                 + f"; false alarms: {len(r['false_alarms'])} of {r['stable_topics']} topics")
    if r.get("mean_act_prepare") is not None:
        lines.append(f"Act/Prepare topics per {r['period']} after the warm-up: "
                     f"{r['mean_act_prepare']:.2f}")
    aps = [f["act_prepare"] for f in r["flags_by_period"].values()]
    if len(aps) > 3:  # the calm figure: after the first three periods (1993-2007 on ungdc)
        lines.append(f"Act/Prepare topics per {r['period']} from the fourth on: "
                     f"{sum(aps[3:]) / len(aps[3:]):.2f}")
    lines.append("Act/Prepare per period: " + " ".join(
        f"{p[:7]}={f['act_prepare']}" for p, f in r["flags_by_period"].items()))
    lines.append("flagged (weak signal, emerging, Act or Prepare) per period: " + " ".join(
        f"{p[:7]}={f.get('flagged', '-')}" for p, f in r["flags_by_period"].items()))
    for e in r["events"]:
        lines.append(f"  {e['name'][:38]:38} onset {e['onset_period'][:7]} first flagged "
                     f"{(e['first_flagged'] or 'never')[:7]:7} rank {e['rank'] or '-':>3} "
                     f"lag {e['lag_periods'] if e['lag_periods'] is not None else '-':>3} "
                     f"rank at onset {e['onset_rank'] or '-':>3}  {e.get('topic_label') or ''}")
    if r.get("label_common_share") is not None:
        lines.append(f"label readability: {r['label_common_share']:.0%} of the words of the "
                     f"{len(r['largest_labels'])} largest topics' labels are corpus-wide common; "
                     f"labels made only of them: {r['common_labels'] or 'none'}")
    if r.get("largest_labels"):
        lines.append("largest topics: " + " | ".join(r["largest_labels"]))
    if "tram_flagged" in result:
        lines.append(f"one-author tram campaign in Act/Prepare: {result['tram_flagged']}")
    lines.append("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result["seconds"].items()))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["corpus", "demo"], nargs="*", default=["corpus", "demo"])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--data", type=Path, default=None, help="import this JSONL instead of the corpus's")
    ap.add_argument("--period", default="year")
    ap.add_argument("--folder", type=Path, default=Path("/tmp/radar-signal-quality"))
    ap.add_argument("--demo-folder", type=Path, default=Path("/tmp/radar-signal-quality-demo"))
    ap.add_argument("--topics", choices=["auto", "replay", "stored"], default="auto")
    ap.add_argument("--variant", choices=["as-is", "null", "half"], default="as-is",
                    help="null: dates shuffled among paragraphs (nothing rises); half: a random half")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--embedder", default="auto",
                    help="[analysis] embedder for the corpus (the demo keeps its default)")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    results = {}
    if "corpus" in args.only:
        data = args.data or corpus_variant(args.corpus, args.variant, args.seed, args.folder)
        results["corpus"] = corpus_run(args.corpus, args.folder, args.period, args.reuse,
                                       args.topics, data, args.embedder)
        name = args.corpus.name + ("" if args.variant == "as-is" else f" ({args.variant}, seed {args.seed})")
        print("\n".join(summary(name, results["corpus"])), flush=True)
    if "demo" in args.only:
        results["demo"] = demo_run(args.demo_folder, args.reuse, args.topics)
        print("\n".join(summary("demo", results["demo"])), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
