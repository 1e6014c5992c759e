"""`period_digests`: one hash per period of the radar, so a run stores only the periods that changed."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pyarrow as pa

from radar.scoring.score import SIGNAL_SCHEMA, period_digests


def rows(scores: dict[tuple[date, int], float], ring: str = "Watch") -> list[dict]:
    out = []
    for (period, topic), value in scores.items():
        row = {name: None for name in SIGNAL_SCHEMA.names}
        row.update(run_id=7, period_start=period, topic_id=topic, score=value, ring=ring,
                   volume=3, theme="kosovo", narrow_voice=False)
        out.append(row)
    return out


def digests(scores, **kw) -> dict:
    return period_digests(pa.Table.from_pylist(rows(scores, **kw), schema=SIGNAL_SCHEMA))


JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)
BASE = {(JAN, 1): 10.0, (JAN, 2): 20.0, (FEB, 1): 30.0, (FEB, 2): 40.0}


def test_one_digest_per_period_whatever_the_row_order_or_the_run():
    d = digests(BASE)
    assert set(d) == {JAN, FEB} and d[JAN] != d[FEB]
    reordered = dict(reversed(list(BASE.items())))
    assert digests(reordered) == d
    table = pa.Table.from_pylist(rows(BASE), schema=SIGNAL_SCHEMA)
    other_run = table.set_column(0, "run_id", pa.array([99] * 4, pa.int64()))
    assert period_digests(other_run) == d  # the run id is not part of the radar


def test_a_change_shows_in_its_period_only_and_float_noise_does_not():
    d = digests(BASE)
    changed = digests({**BASE, (FEB, 2): 41.0})
    assert changed[JAN] == d[JAN] and changed[FEB] != d[FEB]
    assert digests({**BASE, (JAN, 1): 10.0 + 1e-12}) == d  # summation order, not a change
    assert digests(BASE, ring="Act") != d
    assert digests({(JAN, 1): 10.0, (JAN, 2): 20.0})[JAN] == d[JAN]  # a period on its own
    assert digests({**BASE, (JAN, 3): 5.0})[JAN] != d[JAN]  # a new topic in the period


def test_no_rows_no_digests():
    assert period_digests(pa.Table.from_pylist([], schema=SIGNAL_SCHEMA)) == {}


def test_scoring_does_not_import_pandas():
    """pandas took 0.5 s of every `radar analyze` for this hash alone."""
    code = "import sys, radar.scoring.score; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
