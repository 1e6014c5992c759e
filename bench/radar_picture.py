"""Radar picture benchmark: layout, figure and exports for radars of many sizes.

    python bench/radar_picture.py [--blips 75 150 500 2000] [--size 640] [--repeat 3]

Synthetic radars over 12 service areas: half the blips in one area's Monitor ring
(the crowded case), the rest spread at random. Prints per radar the median time
of the layout (dashboard/layout.py), the Plotly figure (dashboard/charts.py), the
SVG and PNG exports (dashboard/picture.py), and how many blips were drawn and how
many stand behind '+k' badges. No database, no browser: pure functions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

# bench/dashboard.py would shadow the dashboard package for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

AREAS = ["transport", "housing", "libraries", "health and care", "digital services",
         "environment and energy", "economy and work", "safety", "culture", "education",
         "water", "waste"]
RINGS = ["Act", "Prepare", "Watch", "Monitor"]
MOVES = ["new", "back", "moved in", "moved out", "unchanged"]


def radar(n: int, seed: int = 1) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        crowded = rng.random() < 0.5
        rows.append({"topic_id": i, "label": f"topic {i}",
                     "service_area": AREAS[0] if crowded else rng.choice(AREAS),
                     "ring": "Monitor" if crowded else rng.choice(RINGS),
                     "score": rng.random() * 100, "volume": rng.randint(1, 200),
                     "movement": rng.choice(MOVES), "stage": "emerging", "sources": 3,
                     "previous_ring": None, "reasons": "synthetic"})
    return pd.DataFrame(rows)


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    from dashboard import charts, layout, picture

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blips", type=int, nargs="+", default=[75, 150, 500, 2000])
    parser.add_argument("--size", type=int, default=charts.SIZE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    charts.radar_figure(radar(10), AREAS, size=args.size)  # imports and first-use costs
    print(f"{'blips':>6} {'layout ms':>10} {'figure ms':>10} {'svg ms':>8} {'png ms':>8} "
          f"{'drawn':>6} {'behind +k':>10}")
    for n in args.blips:
        df = radar(n)
        items = [layout.Blip(int(r.topic_id), r.service_area, r.ring, r.score)
                 for r in df.itertuples()]
        t_layout, lay = timed(lambda: layout.layout(items, AREAS, size_px=args.size,  # noqa: B023
                                                     blip_px=charts.BLIP_PX), args.repeat)
        t_fig, fig = timed(lambda: charts.radar_figure(df, AREAS, size=args.size),  # noqa: B023
                           args.repeat)
        t_svg, _ = timed(lambda: picture.radar_svg(df, fig.placement), args.repeat)  # noqa: B023
        t_png, _ = timed(lambda: picture.radar_png(df, fig.placement), args.repeat)  # noqa: B023
        print(f"{n:>6} {1000 * t_layout:>10.0f} {1000 * t_fig:>10.0f} {1000 * t_svg:>8.0f} "
              f"{1000 * t_png:>8.0f} {len(lay.placed):>6} {len(lay.hidden):>10}")


if __name__ == "__main__":
    main()
