"""The radar layout: a pure function, checked for overlap at many sizes and crowds."""

from __future__ import annotations

import math
import random

import pytest

from dashboard.layout import RINGS, Blip, layout, min_distance

AREAS = ["transport", "housing", "libraries", "health and care", "digital services",
         "environment and energy", "economy and work", "safety", "culture", "education",
         "water", "waste"]


def crowd(n: int, areas: list[str], seed: int, skew: float = 0.0) -> list[Blip]:
    """n blips; with `skew`, that share of them in the first area's Monitor ring."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if rng.random() < skew:
            area, ring = areas[0], "Monitor"
        else:
            area, ring = rng.choice(areas), rng.choice(RINGS)
        out.append(Blip(i, area, ring, rng.random() * 100))
    return out


def check(blips: list[Blip], areas: list[str], size: int, blip_px: float = 22):
    lay = layout(blips, areas, size_px=size, blip_px=blip_px)
    points = [(p.x, p.y) for p in lay.placed] + [(m.x, m.y) for m in lay.more]
    # No two blips (or badges) closer than a slot: the largest blip plus the gap.
    assert min_distance(points) >= lay.slot * (1 - 1e-9)
    assert lay.slot * lay.px_per_unit == pytest.approx(lay.blip_px + 4)
    assert lay.blip_px == blip_px or size < 400  # shrunk only on a small picture
    # Every blip is either drawn or behind its cell's '+k more' badge, and numbered once.
    drawn = {p.topic_id for p in lay.placed}
    behind = [t for m in lay.more for t in m.topic_ids]
    assert len(behind) == len(set(behind)) and not drawn & set(behind)
    if size >= 400:  # below that, a cell may have no room even for a badge
        assert drawn | set(behind) == {b.topic_id for b in blips}
    assert lay.hidden == {b.topic_id for b in blips} - drawn
    assert sorted(lay.numbers.values()) == list(range(1, len(blips) + 1))
    # Each blip sits inside its own sector and ring band.
    sectors = {s.name: s for s in lay.sectors}
    for p in lay.placed + [m for m in lay.more]:
        ring = p.ring
        band = RINGS.index(ring)
        r = math.hypot(p.x, p.y)
        assert lay.edges[band] - 1e-9 <= r <= lay.edges[band + 1] + 1e-9
        theta = math.degrees(math.atan2(p.x, p.y)) % 360
        s = sectors[p.sector]
        assert s.start - 1e-6 <= theta <= s.end + 1e-6 or len(areas) == 1
    # A lane right of 12 o'clock stays clear for the ring names.
    if lay.lane > 0:
        for p in lay.placed:
            if p.sector == lay.sectors[0].name and p.x >= 0:  # right of the line
                away = p.x if p.y > 0 else math.hypot(p.x, p.y)
                assert away >= lay.slot / 2 + lay.lane - 1e-9
    # Every sector stays visible, however empty.
    if size >= 400:
        assert min(s.end - s.start for s in lay.sectors) >= 90 / len(areas) - 1e-6
    # The sectors cover the circle in order.
    assert lay.sectors[0].start == 0 and lay.sectors[-1].end == pytest.approx(360)
    return lay


@pytest.mark.parametrize("size", [300, 420, 560, 640, 760, 900, 1100])
@pytest.mark.parametrize("n", [0, 1, 2, 8, 40, 75, 150, 300])
def test_no_overlap_at_many_sizes_and_crowds(size, n):
    for seed in range(3):
        check(crowd(n, AREAS[:8], seed), AREAS[:8], size)


@pytest.mark.parametrize("size", [400, 640, 760, 1000])
def test_one_crowded_cell_gets_the_room_it_needs(size):
    """The held-out archive's picture: 50 of 75 topics in one sector and ring."""
    blips = crowd(75, AREAS, seed=7, skew=0.66)
    lay = check(blips, AREAS, size)
    if size >= 640:
        assert lay.hidden == set()  # sized by content, they all fit
    big = next(s for s in lay.sectors if s.name == AREAS[0])
    assert big.end - big.start > 360 / len(AREAS) * 2  # the full sector is widened


def test_a_cell_too_small_shows_its_best_and_a_badge():
    blips = [Blip(i, "transport", "Act", score=i) for i in range(200)]
    lay = check(blips, ["transport", "housing", "libraries", "water"], 420, blip_px=30)
    assert lay.more, "a crowded Act ring at 420 px must overflow"
    badge = lay.more[0]
    shown = {p.topic_id for p in lay.placed}
    # The strongest topics are drawn, the weakest are behind the badge.
    assert min(shown) > max(badge.topic_ids)
    assert lay.hidden == set(badge.topic_ids)


def test_single_sector_and_unknown_areas():
    blips = crowd(30, ["transport"], seed=1) + [Blip(99, "nowhere", "Act", 1.0)]
    lay = check(blips[:-1], ["transport"], 500)
    lay2 = layout(blips, ["transport"], size_px=500)
    assert 99 not in lay2.numbers and len(lay2.placed) == len(lay.placed)


def test_numbers_read_sector_by_sector_ring_by_ring_best_first():
    blips = [Blip(1, "b", "Act", 5), Blip(2, "a", "Watch", 9), Blip(3, "a", "Act", 1),
             Blip(4, "a", "Act", 3), Blip(5, "b", "Monitor", 8)]
    lay = layout(blips, ["a", "b"], size_px=600)
    assert [t for t, _ in sorted(lay.numbers.items(), key=lambda kv: kv[1])] == [4, 3, 2, 1, 5]
    # Higher score sits nearer the centre within a cell.
    pos = {p.topic_id: math.hypot(p.x, p.y) for p in lay.placed}
    assert pos[4] <= pos[3] + 1e-9
