"""Benchmark PII redaction: recall per type, false positives, documents per second.

    python bench/privacy.py [--show-misses 5] [--show-false 10] [--json out.json]

Reads the labelled set in tests/fixtures/pii/ (real Polis comments with inserted
personal data; see its generate.py) and runs the radar's redaction on it:
- recall per type: a labelled value counts as caught when every one of its
  characters (spaces aside) lies inside something the redaction replaces;
- false positives: on the unmodified comments in ordinary.jsonl, the pieces the
  redaction would replace (per type, per 1,000 comments, with examples), and on the
  labelled set, replacements that touch no labelled value;
- speed: analyser load time and documents per second (batch, as import runs it).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pii"
TARGET = 0.95


def load(name: str) -> list[dict]:
    with (FIXTURES / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def covered(text: str, start: int, end: int, findings) -> bool:
    """Whether every non-space character of text[start:end] lies inside a finding."""
    for pos in range(start, end):
        if text[pos].isspace():
            continue
        if not any(f.start <= pos < f.end for f in findings):
            return False
    return True


def evaluate(labelled, ordinary, redactor) -> dict:
    t0 = time.perf_counter()
    found = redactor.find_many([r["text"] for r in labelled])
    t_lab = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = redactor.find_many([r["text"] for r in ordinary])
    t_plain = time.perf_counter() - t0

    hits, totals, misses = Counter(), Counter(), defaultdict(list)
    stray = Counter()
    for row, fs in zip(labelled, found, strict=True):
        for s in row["spans"]:
            totals[s["type"]] += 1
            if covered(row["text"], s["start"], s["end"], fs):
                hits[s["type"]] += 1
            else:
                misses[s["type"]].append((s["value"], row["text"]))
        for f in fs:
            if not any(f.start < s["end"] and s["start"] < f.end for s in row["spans"]):
                stray[f.entity] += 1
    fp, fp_examples = Counter(), defaultdict(list)
    for row, fs in zip(ordinary, plain, strict=True):
        for f in fs:
            fp[f.entity] += 1
            fp_examples[f.entity].append(row["text"][max(0, f.start - 30):f.end + 30])
    n_docs = len(labelled) + len(ordinary)
    return {
        "recall": {t: hits[t] / totals[t] for t in sorted(totals)},
        "counts": {t: [hits[t], totals[t]] for t in sorted(totals)},
        "misses": misses,
        "false_positives_ordinary": dict(fp),
        "ordinary_docs": len(ordinary),
        "ordinary_docs_with_any": sum(1 for fs in plain if fs),
        "fp_examples": fp_examples,
        "stray_in_labelled": dict(stray),
        "docs_per_second": n_docs / (t_lab + t_plain),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show-misses", type=int, default=3, help="missed values shown per type")
    ap.add_argument("--show-false", type=int, default=5, help="false positives shown per type")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args()

    from radar.core.pii import Redactor

    t0 = time.perf_counter()
    redactor = Redactor.get()
    load_s = time.perf_counter() - t0
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    labelled, ordinary = load("labelled.jsonl"), load("ordinary.jsonl")
    res = evaluate(labelled, ordinary, redactor)

    print(f"analyser load {load_s:.1f} s ({loaded_mb:.0f} MB resident, torch "
          f"{'imported' if 'torch' in sys.modules else 'not imported'}); "
          f"{res['docs_per_second']:.0f} documents/s "
          f"({len(labelled)} labelled + {len(ordinary)} ordinary comments)")
    print(f"{'type':18} {'recall':>7} {'caught':>9}")
    worst = 1.0
    for t, r in res["recall"].items():
        hit, tot = res["counts"][t]
        worst = min(worst, r)
        flag = "" if r >= TARGET else f"  below {TARGET}"
        print(f"{t:18} {r:7.3f} {hit:>4}/{tot:<4}{flag}")
        for value, text in res["misses"][t][:args.show_misses]:
            print(f"    missed {value!r} in: {text[:160]!r}")
    n = res["ordinary_docs"]
    total_fp = sum(res["false_positives_ordinary"].values())
    print(f"false positives on {n} ordinary comments: {total_fp} replacements in "
          f"{res['ordinary_docs_with_any']} comments ({1000 * total_fp / n:.1f} per 1,000)")
    for t, c in sorted(res["false_positives_ordinary"].items(), key=lambda kv: -kv[1]):
        print(f"  {t:16} {c}")
        for ex in res["fp_examples"][t][:args.show_false]:
            print(f"      {ex!r}")
    print(f"replacements touching no label in the labelled set: {res['stray_in_labelled']}")
    if args.json:
        out = {k: v for k, v in res.items() if k not in ("misses", "fp_examples")}
        out["load_seconds"] = load_s
        out["load_peak_rss_mb"] = loaded_mb
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
