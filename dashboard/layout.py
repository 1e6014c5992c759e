"""Where each blip goes on the radar: a pure function of the blips, tested without a browser.

Like Thoughtworks' Build Your Own Radar, every blip sits inside its own cell
(its sector = service area, and its ring), spread over the cell, numbered, and
listed in a legend beside the picture. Unlike a random scatter, the placement
here is a packing with a guarantee: blip centres are at least one slot (the
largest blip plus a gap) apart, within a cell and across cell borders, so no
two blips ever overlap at the size the layout was made for.

- Sector angles follow their content: each sector gets a minimum (room for a few
  blips of each of its cells, and a quarter of an equal share, so an empty one
  stays visible) and the rest of the circle in proportion to its blips or to the
  room its fullest cell needs, so a service area holding most topics gets most
  of the room.
- Ring widths follow their content too (square root of the blips, plus a minimum).
- Within a cell, blips fill rows (arcs) from the inner edge outwards, the best
  score nearest the centre; rows and blips in a row are spread evenly.
- A cell holding more blips than fit shows its strongest ones and a "+k more"
  badge in its last slot; the hidden topics stay numbered in the list.
- Blips are numbered sector by sector (clockwise from 12 o'clock), ring by ring
  (Act first), best score first, so the list beside the radar reads in order.

Coordinates: the radar has radius 1; x to the right, y up; angles in degrees
clockwise from 12 o'clock. `px_per_unit` converts to screen pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

RINGS = ("Act", "Prepare", "Watch", "Monitor")
RADIUS = 1.0
LABEL_MARGIN = 0.28  # room outside the rings for sector names, in radar radii


@dataclass(frozen=True)
class Blip:
    """A topic to place: its sector, ring and score (higher = nearer the centre of its cell)."""

    topic_id: int
    sector: str
    ring: str
    score: float = 0.0


@dataclass(frozen=True)
class Sector:
    """A service area's slice: start and end angle (degrees clockwise from 12 o'clock)."""

    name: str
    start: float
    end: float
    lead: float = 0.0  # extra room kept clear along the start edge (radar units)
    alone: bool = False  # the only sector: a whole circle without edges

    @property
    def middle(self) -> float:
        """The angle half way through the slice."""
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Placed:
    """A drawn blip: its number and centre."""

    topic_id: int
    number: int
    x: float
    y: float
    sector: str
    ring: str


@dataclass(frozen=True)
class More:
    """A '+k more' badge for a crowded cell: where it is drawn and the topics it stands for."""

    sector: str
    ring: str
    x: float
    y: float
    topic_ids: tuple[int, ...]


@dataclass
class Layout:
    """Positions for one radar picture (see module doc)."""

    sectors: list[Sector]
    edges: tuple[float, ...]  # ring boundaries from the centre: 0, Act, Prepare, Watch, Monitor
    slot: float  # minimum distance between two centres, in radar units
    blip_px: float  # the largest blip's diameter on screen
    lane: float  # width of the lane kept clear right of 12 o'clock (ring names), radar units
    px_per_unit: float
    size_px: int
    placed: list[Placed] = field(default_factory=list)
    more: list[More] = field(default_factory=list)
    numbers: dict[int, int] = field(default_factory=dict)  # every topic (drawn or not) -> number

    @property
    def hidden(self) -> set[int]:
        """Topics not drawn (behind a '+k more' badge, or in a cell with no room at all)."""
        drawn = {p.topic_id for p in self.placed}
        return {t for t in self.numbers if t not in drawn}

    @property
    def limit(self) -> float:
        """Half the width of the square plot area, in radar units."""
        return RADIUS + LABEL_MARGIN


def xy(r: float, theta: float) -> tuple[float, float]:
    """Cartesian position of radius `r` at `theta` degrees clockwise from 12 o'clock."""
    rad = math.radians(theta)
    return r * math.sin(rad), r * math.cos(rad)


def sector_angles(counts: Sequence[int], evenness: float,
                  minima: Sequence[float] | None = None) -> list[float]:
    """Each sector's share of 360 degrees: `evenness` split equally, the rest by content;
    a sector never gets less than its minimum (the angle one blip needs), when they fit."""
    n = len(counts)
    total = sum(counts)
    if n == 0:
        return []
    wanted = ([360.0 / n] * n if total == 0 else
              [360.0 * (evenness / n + (1 - evenness) * c / total) for c in counts])
    floor = list(minima or [0.0] * n)
    if sum(floor) >= 360:  # cannot give every sector its minimum: share in proportion
        return [360.0 * f / sum(floor) for f in floor]
    # Raise the sectors under their minimum, take the difference from the others.
    angles = wanted
    for _ in range(n):
        short = [i for i in range(n) if angles[i] < floor[i] - 1e-9]
        if not short:
            break
        fixed = {i for i in range(n) if angles[i] <= floor[i] + 1e-9}
        rest = 360.0 - sum(floor[i] for i in fixed)
        free = sum(wanted[i] for i in range(n) if i not in fixed)
        angles = [floor[i] if i in fixed else wanted[i] * rest / free for i in range(n)]
    return angles


def cell_angle(inner: float, outer: float, slot: float, n: int, lead: float = 0.0) -> float:
    """The smallest sector angle (degrees) whose outermost row in a ring band holds n blips
    (360 when the band cannot hold one); `lead` is kept clear along the start edge."""
    r = outer - slot / 2
    if n <= 0:
        return 0.0
    if r < inner + slot / 2 - 1e-12 or r <= 0 or slot / 2 + lead > r:
        return 360.0
    return (_clearance(r, slot / 2) + _clearance(r, slot / 2 + lead)
            + (n - 1) * _min_step(r, slot) + 1e-6)


def ring_edges(counts: Sequence[int], min_width: float | Sequence[float],
               weight: float = 0.5) -> tuple[float, ...]:
    """Ring boundaries: each ring is at least its minimum width; the rest of the radius goes
    by a fixed part plus the square root of its blips times `weight`; the inner rings get
    extra, as their circumference is short."""
    minima = ([min_width] * len(counts) if isinstance(min_width, int | float)
              else list(min_width))
    weights = [(1.6 - 0.2 * i) + math.sqrt(c) * weight for i, c in enumerate(counts)]
    spare = max(RADIUS - sum(minima), 0.0)
    total = sum(weights)
    edges, acc = [0.0], 0.0
    for w, low in zip(weights, minima, strict=True):
        acc += low + spare * w / total
        edges.append(acc)
    scale = RADIUS / acc
    return tuple(e * scale for e in edges)


def _rows(inner: float, outer: float, sector: Sector, slot: float) -> list[tuple[float, int]]:
    """Candidate rows of a cell: (radius, capacity), inner first, `slot` apart, the last one
    on the outer margin (outer rows are longer: they hold the most)."""
    margin = slot / 2
    lo, hi = inner + margin, outer - margin
    if hi < lo - 1e-12:
        return []
    n_rows = int((hi - lo) / slot + 1e-9) + 1
    radii = [hi - i * slot for i in range(n_rows)][::-1]
    return [(r, _row_capacity(r, sector, slot)) for r in radii]


def _full(sector: Sector) -> bool:
    return sector.alone


def _row_capacity(r: float, sector: Sector, slot: float) -> int:
    usable = _usable(r, sector, slot)
    if usable is None:
        return 0
    step = _min_step(r, slot)
    if _full(sector):  # a whole circle: the last blip meets the first
        return int(360.0 / step + 1e-9)
    return int((usable[1] - usable[0]) / step + 1e-9) + 1


def _clearance(r: float, distance: float) -> float:
    """The angle (degrees) at radius r that keeps a point `distance` from a radial line."""
    return math.degrees(math.asin(min(1.0, distance / r)))


def _usable(r: float, sector: Sector, slot: float) -> tuple[float, float] | None:
    """The angles (first, last) at radius r where a centre is slot/2 from the sector's edges
    (plus the sector's `lead` from its start edge), or None when there is no room."""
    if r <= 0:
        return None
    if _full(sector):  # a full circle (one sector) has no edges to keep away from
        return sector.start, sector.end
    if r < slot / 2 + sector.lead:  # too near the centre to keep away from the edges
        return None
    first = sector.start + _clearance(r, slot / 2 + sector.lead)
    last = sector.end - _clearance(r, slot / 2)
    return (first, last) if last >= first - 1e-9 else None


def _min_step(r: float, slot: float) -> float:
    """The angle between two centres on a circle of radius r that are `slot` apart."""
    return math.degrees(2 * math.asin(min(1.0, slot / (2 * r))))


def _spread(r: float, sector: Sector, slot: float, n: int) -> list[float]:
    """n angles evenly over the usable part of the row (its middle when n = 1)."""
    if _full(sector):  # around the whole circle: n equal steps, wrapping
        step = 360.0 / n
        return [sector.start + step * (i + 0.5) for i in range(n)]
    first, last = _usable(r, sector, slot) or (sector.middle, sector.middle)
    if n == 1:
        return [(first + last) / 2]
    return [first + (last - first) * i / (n - 1) for i in range(n)]


def _fill_cell(blips: list[Blip], inner: float, outer: float, sector: Sector,
               slot: float) -> tuple[list[tuple[Blip, float, float]], More | None]:
    """Place a cell's blips (best first); returns positions and a '+k more' badge if crowded."""
    rows = [(r, c) for r, c in _rows(inner, outer, sector, slot) if c > 0]
    capacity = sum(c for _, c in rows)
    n = len(blips)
    if n == 0 or capacity == 0:
        more = None
        return [], more
    shown = n if n <= capacity else capacity - 1  # the last slot holds the badge
    slots = n if n <= capacity else capacity
    # Use as few rows as give room, about as many as a square grid of the cell would
    # have, spread evenly across the band. Capacity grows with the radius, so evenly
    # spread rows (at or outside the innermost ones) hold at least as much.
    used, room = 0, 0
    while room < slots and used < len(rows):
        room += rows[used][1]
        used += 1
    depth, arc = outer - inner, math.radians(sector.end - sector.start) * (inner + outer) / 2
    want = max(1, min(len(rows), round(math.sqrt(slots * depth / max(arc, 1e-9)))))
    used = max(used, want)
    if used > 1:
        lo, hi = rows[0][0], rows[-1][0]
        radii = [lo + (hi - lo) * i / (used - 1) for i in range(used)]
        chosen = [(r, _row_capacity(r, sector, slot)) for r in radii]
    else:
        mid = (inner + outer) / 2
        chosen = [(mid, _row_capacity(mid, sector, slot))]
        if chosen[0][1] < slots:
            chosen = [rows[0]] if rows[0][1] >= slots else [rows[-1]]
    # Share the slots over the rows in proportion to their capacity, inner rows first.
    cap = sum(c for _, c in chosen)
    per_row, left = [], slots
    for i, (_r, c) in enumerate(chosen):
        k = min(c, left) if i == len(chosen) - 1 else min(c, left, math.ceil(slots * c / cap))
        per_row.append(k)
        left -= k
    i = 0
    while left > 0:  # rounding: top up rows that still have room
        extra = min(chosen[i][1] - per_row[i], left)
        per_row[i] += extra
        left -= extra
        i += 1
    positions: list[tuple[float, float]] = []
    for (r, _c), k in zip(chosen, per_row, strict=True):
        if k:
            positions.extend(xy(r, a) for a in _spread(r, sector, slot, k))
    out = [(b, *positions[j]) for j, b in enumerate(blips[:shown])]
    more = None
    if shown < n:
        x, y = positions[shown]
        more = More(sector.name, blips[0].ring, x, y, tuple(b.topic_id for b in blips[shown:]))
    return out, more


def _need(cells: dict[tuple[str, str], list[Blip]], sectors: list[str],
          edges: tuple[float, ...], slot: float) -> list[float]:
    """Per sector, the angle its most demanding cell needs: blips over blips-per-degree of
    the cell's ring (rows across the band, each holding 1/step blips per degree)."""
    per_degree = []
    for band in range(len(RINGS)):
        lo, hi = edges[band] + slot / 2, edges[band + 1] - slot / 2
        rows = [hi - i * slot for i in range(int(max(hi - lo, 0) / slot + 1e-9) + 1)] if hi >= lo else []
        per_degree.append(sum(1 / _min_step(r, slot) for r in rows if r > 0) or 1e-9)
    return [max(len(cells.get((s, r), [])) / per_degree[band] for band, r in enumerate(RINGS))
            for s in sectors]


def _attempt(cells: dict[tuple[str, str], list[Blip]], sectors: list[str], evenness: float,
             ring_weight: float, slot: float, per_cell: int, lane: float, by_need: bool = False
             ) -> tuple[list[Sector], tuple[float, ...], list[tuple[Blip, float, float]], list[More]]:
    counts = [sum(len(cells.get((s, r), [])) for r in RINGS) for s in sectors]
    ring_counts = [sum(len(cells.get((s, r), [])) for s in sectors) for r in RINGS]
    # Every ring holds a blip across; the centre ring also one blip in each sector using
    # it, in half the circle at most (the other half is for the crowded sectors).
    low = min(slot * 1.05, RADIUS / len(RINGS))
    centre = sum(1 for s in sectors if cells.get((s, RINGS[0])))
    act = slot / 2 * (1 + 1 / math.sin(math.radians(min(90.0, 90.0 / max(centre, 1))))) * 1.05
    edges = ring_edges(ring_counts, min_width=[max(low, act), low, low, low],
                       weight=ring_weight)
    # A sector is at least wide enough for (up to) `per_cell` blips of each of its cells
    # in one row; the crowded ones get more from their share of the content.
    # Every sector, even an empty one, keeps a quarter of an equal share: it stays visible.
    minima = [max([cell_angle(edges[band], edges[band + 1], slot,
                              min(len(cells.get((s, r), [])), per_cell), lane if i == 0 else 0.0)
                   for band, r in enumerate(RINGS)] + [90.0 / len(sectors)])
              for i, s in enumerate(sectors)]
    # Sectors share the circle by their blips, or by the room their fullest cell needs.
    share = _need(cells, sectors, edges, slot) if by_need else counts
    angles = sector_angles(share, evenness, minima)
    out_sectors, start = [], 0.0
    for name, a in zip(sectors, angles, strict=True):
        # The first sector keeps a lane along 12 o'clock clear for the ring names.
        out_sectors.append(Sector(name, start, start + a, lane if not out_sectors else 0.0,
                                  alone=len(sectors) == 1 and lane == 0))
        start += a
    placed, more = [], []
    for sector in out_sectors:
        for band, ring in enumerate(RINGS):
            got, badge = _fill_cell(cells.get((sector.name, ring), []), edges[band],
                                    edges[band + 1], sector, slot)
            placed.extend(got)
            if badge:
                more.append(badge)
    return out_sectors, edges, placed, more


def layout(blips: Sequence[Blip], sectors: Sequence[str], size_px: int = 760,
           blip_px: float = 22.0, gap_px: float = 4.0, lane_px: float = 14.0) -> Layout:
    """Place every blip in its sector and ring without overlap (see module doc).

    `size_px` is the side of the square plot area the radar is drawn in and
    `blip_px` the largest blip's diameter on screen; centres end up at least
    `blip_px + gap_px` pixels apart. A lane `lane_px` wide right of the 12 o'clock
    line stays clear of blips (ring names are written there). Blips of an unknown sector or ring are not
    placed. Several spreads of sectors and rings are tried (a few hundred ms at
    most for hundreds of blips); the one hiding the fewest blips wins (ties: the
    first, most even one).
    """
    sectors = list(dict.fromkeys(sectors)) or ["other"]
    known = [b for b in blips if b.sector in sectors and b.ring in RINGS]
    px_per_unit = size_px / (2 * (RADIUS + LABEL_MARGIN))
    # A small picture: blips shrink until each ring can hold one across its width.
    blip_px = min(blip_px, px_per_unit * RADIUS / len(RINGS) / 1.05 - gap_px)
    slot = (blip_px + gap_px) / px_per_unit
    lane = lane_px / px_per_unit
    cells: dict[tuple[str, str], list[Blip]] = {}
    for b in sorted(known, key=lambda b: (-b.score, b.topic_id)):
        cells.setdefault((b.sector, b.ring), []).append(b)
    best = None
    options = [(per_cell, by_need, evenness, ring_weight)
               for per_cell in (3, 1) for by_need in (False, True)
               for evenness in (0.5, 0.35, 0.2, 0.1, 0.0) for ring_weight in (0.5, 1.0, 2.0, 4.0)]
    for per_cell, by_need, evenness, ring_weight in options:
        got = _attempt(cells, sectors, evenness, ring_weight, slot, per_cell, lane, by_need)
        shown = {b.topic_id for b, _x, _y in got[2]} | {t for m in got[3] for t in m.topic_ids}
        # First: no topic lost without even a badge; then: fewest behind badges.
        rank = (len(known) - len(shown), len(known) - len(got[2]))
        if best is None or rank < best[0]:
            best = (rank, got)
        if rank == (0, 0):
            break
    out_sectors, edges, placed, more = best[1]
    numbers: dict[int, int] = {}
    for s in sectors:
        for r in RINGS:
            for b in cells.get((s, r), []):
                numbers[b.topic_id] = len(numbers) + 1
    return Layout(
        sectors=out_sectors, edges=edges, slot=slot, blip_px=blip_px, px_per_unit=px_per_unit,
        lane=lane,
        size_px=size_px,
        placed=[Placed(b.topic_id, numbers[b.topic_id], x, y, b.sector, b.ring)
                for b, x, y in placed],
        more=more, numbers=numbers,
    )


def min_distance(points: Sequence[tuple[float, float]]) -> float:
    """The smallest distance between two of the points (inf for fewer than two)."""
    best = math.inf
    pts = sorted(points)
    for i, (x1, y1) in enumerate(pts):
        for x2, y2 in pts[i + 1:]:
            if x2 - x1 >= best:
                break
            best = min(best, math.hypot(x2 - x1, y2 - y1))
    return best
