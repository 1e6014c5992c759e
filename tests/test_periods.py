"""One period rule for the whole project (radar.core.periods), in Python and in SQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pytest

from radar.core.periods import (
    PERIODS,
    check_period,
    default_baseline,
    document_time,
    next_period,
    period_range,
    period_start,
    period_start_sql,
)


@pytest.mark.parametrize("value, period, expected", [
    # on boundaries: the last second of a period and the first of the next
    (datetime(2026, 1, 31, 23, 59, 59), "month", date(2026, 1, 1)),
    (datetime(2026, 2, 1, 0, 0, 0), "month", date(2026, 2, 1)),
    (datetime(2026, 12, 31, 23, 59, 59), "year", date(2026, 1, 1)),
    (datetime(2027, 1, 1), "year", date(2027, 1, 1)),
    (datetime(2026, 11, 29, 23, 59, 59), "week", date(2026, 11, 23)),  # a Sunday
    (datetime(2026, 11, 30), "week", date(2026, 11, 30)),              # the Monday after
    # an ISO week that straddles the new year starts in the old one
    (datetime(2027, 1, 1, 12), "week", date(2026, 12, 28)),
    (date(2024, 2, 29), "month", date(2024, 2, 1)),
    (datetime(2026, 3, 5, 23, 0), "day", date(2026, 3, 5)),
    # quarters start on 1 January, April, July and October
    (datetime(2026, 3, 31, 23, 59, 59), "quarter", date(2026, 1, 1)),
    (datetime(2026, 4, 1), "quarter", date(2026, 4, 1)),
    (date(2026, 8, 15), "quarter", date(2026, 7, 1)),
    (datetime(2026, 12, 31, 23, 59, 59), "quarter", date(2026, 10, 1)),
])
def test_period_start_on_boundaries(value, period, expected):
    assert period_start(value, period) == expected


@pytest.mark.parametrize("value, period, expected", [
    # 00:30 on 1 March at UTC+2 is 22:30 on 28 February in UTC: February
    (datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))), "month", date(2026, 2, 1)),
    # 23:30 on 31 December at UTC-5 is already the new year in UTC
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))), "year", date(2027, 1, 1)),
    (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), "month", date(2026, 6, 1)),
])
def test_aware_times_count_in_utc(value, period, expected):
    assert period_start(value, period) == expected


def test_a_future_publication_date_counts_at_its_fetch():
    fetched = datetime(2026, 5, 10, 12)
    assert document_time(datetime(2031, 1, 1), fetched) == fetched
    # within a day of the fetch it is believed (time zones, clocks)
    assert document_time(fetched + timedelta(hours=23), fetched) == fetched + timedelta(hours=23)
    assert document_time(None, fetched) == fetched
    assert document_time(datetime(2020, 1, 1), None) == datetime(2020, 1, 1)


def test_dates_before_the_first_period_keep_their_own_period():
    # Nothing is clamped to the start of a series: an old document is in its own period.
    assert period_start(datetime(1899, 12, 31, 23), "year") == date(1899, 1, 1)
    assert list(period_range(date(1990, 6, 1), date(1993, 2, 1), "year")) == [
        date(1990, 1, 1), date(1991, 1, 1), date(1992, 1, 1), date(1993, 1, 1)]


def test_next_period_and_ranges_cover_silent_periods():
    assert next_period(date(2026, 12, 1), "month") == date(2027, 1, 1)
    assert next_period(date(2026, 12, 3), "week") == date(2026, 12, 7)
    months = list(period_range(date(2026, 11, 15), date(2027, 2, 2), "month"))
    assert months == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert next_period(date(2026, 11, 20), "quarter") == date(2027, 1, 1)
    quarters = list(period_range(date(2026, 5, 15), date(2027, 4, 2), "quarter"))
    assert quarters == [date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1),
                        date(2027, 4, 1)]


def test_the_default_baseline_covers_six_periods_and_at_least_half_a_year():
    assert {p: default_baseline(p) for p in PERIODS} == {
        "day": 182, "week": 26, "month": 6, "quarter": 6, "year": 6}


def test_unknown_period_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="day, week, month, quarter, year"):
        check_period("fortnight")
    with pytest.raises(ValueError):
        period_start_sql("quarter'; DROP TABLE documents; --")


@pytest.mark.parametrize("period", PERIODS)
def test_sql_and_python_agree(period):
    """Every stage that asks in SQL gets the same period as one asking in Python."""
    rng = random.Random(7)
    rows = []
    for _ in range(400):
        fetched = datetime(1990, 1, 1) + timedelta(seconds=rng.randrange(40 * 365 * 86400))
        choice = rng.random()
        if choice < 0.15:
            published = None
        elif choice < 0.3:  # a wrong date in the future
            published = fetched + timedelta(days=rng.randrange(2, 4000))
        elif choice < 0.4:  # near the tolerance
            published = fetched + timedelta(hours=rng.choice([23, 24, 25]))
        else:
            published = fetched - timedelta(seconds=rng.randrange(10 * 365 * 86400))
        rows.append((published, fetched))
    con = duckdb.connect()
    con.execute("CREATE TABLE d (published_at TIMESTAMP, fetched_at TIMESTAMP)")
    con.executemany("INSERT INTO d VALUES (?, ?)", rows)
    got = con.execute(f"SELECT published_at, fetched_at, {period_start_sql(period)} FROM d").fetchall()
    for published, fetched, sql_period in got:
        assert sql_period == period_start(document_time(published, fetched), period), (published, fetched)
