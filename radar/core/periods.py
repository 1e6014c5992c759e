"""Periods: the one place in the project that turns a timestamp into a period.

Every stage asks here, in Python or in SQL, so a document falls in the same
period whichever stage looks at it:

- A document's time is its publication date, or its fetch time when it has no
  publication date or when the publication date lies more than one day after
  the fetch (a feed's typo or a time zone gone astray: a wrong date must not
  create a future period).
- Times are UTC. The warehouse stores naive UTC timestamps; an aware datetime
  is converted to UTC first, so 00:30 at UTC+2 on 1 March is still February.
- A period is named by its first day: the day itself, the ISO week's Monday,
  the first of the month, the first of the quarter (1 January, April, July or
  October), or 1 January.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

PERIODS = ("day", "week", "month", "quarter", "year")

#: A publication date this far after the fetch is wrong; the fetch time is used instead.
FUTURE_TOLERANCE = timedelta(days=1)

#: The scoring's baseline (`[scoring] baseline_periods` when not set): this many periods,
#: and at least about half a year of them, so that weeks and days compare a period with
#: as much history as months do (six weeks hold too few passages of a small theme to
#: know its usual rate).
BASELINE_PERIODS = 6
BASELINE_DAYS = 182
_DAYS = {"day": 1, "week": 7, "month": 30.4375, "quarter": 91.3125, "year": 365.25}


def default_baseline(period: str) -> int:
    """Periods in the scoring's baseline for `period`: 6 months, quarters or years, 26 weeks,
    182 days."""
    return max(BASELINE_PERIODS, round(BASELINE_DAYS / _DAYS[check_period(period)]))


def check_period(period: str) -> str:
    """`period` itself, or ValueError naming the allowed periods."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (expected one of {', '.join(PERIODS)})")
    return period


def to_utc(value: datetime) -> datetime:
    """Naive UTC: aware datetimes are converted, naive ones are taken as UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def document_time(published: datetime | None, fetched: datetime | None) -> datetime | None:
    """The time a document counts at (see the module docstring), naive UTC."""
    published = to_utc(published) if published is not None else None
    fetched = to_utc(fetched) if fetched is not None else None
    if published is None or (fetched is not None and published > fetched + FUTURE_TOLERANCE):
        return fetched
    return published


def period_start(value: date | datetime, period: str) -> date:
    """The first day of the period that `value` falls in."""
    check_period(period)
    if isinstance(value, datetime):
        value = to_utc(value).date()
    if period == "day":
        return value
    if period == "week":
        return value - timedelta(days=value.weekday())
    if period == "month":
        return value.replace(day=1)
    if period == "quarter":
        return value.replace(month=(value.month - 1) // 3 * 3 + 1, day=1)
    return value.replace(month=1, day=1)


def next_period(start: date, period: str) -> date:
    """The first day of the period after the one starting at `start`."""
    start = period_start(start, period)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period in ("month", "quarter"):
        months = start.month - 1 + (1 if period == "month" else 3)
        return date(start.year + months // 12, months % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def period_range(first: date, last: date, period: str) -> Iterator[date]:
    """Every period start from `first`'s period to `last`'s, silent periods included."""
    current, end = period_start(first, period), period_start(last, period)
    while current <= end:
        yield current
        current = next_period(current, period)


def document_time_sql(published: str = "d.published_at", fetched: str = "d.fetched_at") -> str:
    """`document_time` as a DuckDB expression over two naive-UTC timestamp columns."""
    hours = int(FUTURE_TOLERANCE.total_seconds() // 3600)
    return (f"(CASE WHEN {published} IS NULL OR {published} > {fetched} + INTERVAL {hours} HOUR "
            f"THEN coalesce({fetched}, {published}) ELSE {published} END)")


def period_start_sql(period: str, published: str = "d.published_at", fetched: str = "d.fetched_at") -> str:
    """`period_start(document_time(...))` as a DuckDB expression returning a DATE."""
    check_period(period)
    return f"CAST(date_trunc('{period}', {document_time_sql(published, fetched)}) AS DATE)"
