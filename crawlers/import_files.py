"""Reading `radar import` files: JSON Lines, CSV/TSV or Parquet rows with their line numbers.

A row that cannot be read (bad JSON, too many fields) comes back as a `BadRow`
with its reason, and the rest of the file goes on; a file that cannot be read
at all is an `ImportFileError`. `parse_date` reads the many forms published_at
takes (ISO, epoch seconds or milliseconds, free text) into naive UTC.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from radar.core.documents import to_utc_naive


class ImportFileError(ValueError):
    """The file as a whole cannot be read (unknown format, missing, not a table)."""


@dataclass
class BadRow:
    """A row that was not imported, and why."""

    line: int
    reason: str


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Yield (line number, row) from a JSONL, CSV or Parquet file; unreadable rows as BadRow."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ImportFileError(f"{path}: file not found")
    if suffix in (".jsonl", ".ndjson", ".json"):
        yield from _read_jsonl(path)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(path, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        yield from _read_parquet(path)
    else:
        raise ImportFileError(f"{path}: unknown format {suffix!r} (use .jsonl, .csv or .parquet)")


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict | BadRow]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, BadRow(lineno, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(row, dict):
                yield lineno, BadRow(lineno, "not a JSON object")
                continue
            yield lineno, row


def _read_csv(path: Path, delimiter: str) -> Iterator[tuple[int, dict | BadRow]]:
    csv.field_size_limit(50_000_000)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise ImportFileError(f"{path}: no header with a 'text' column")
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                yield start, BadRow(start, f"{len(row[None])} more fields than the header has")
            else:
                yield start, row
            start = reader.line_num + 1


def _read_parquet(path: Path) -> Iterator[tuple[int, dict | BadRow]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    n = 0
    for batch in pf.iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            n += 1
            yield n, row


def parse_date(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc_naive(value)
    if isinstance(value, bool):
        raise ValueError(f"published_at is true/false, not a date: {value!r}")
    if isinstance(value, (int, float)):
        # Epoch seconds, or milliseconds when implausibly large.
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime(1970, 1, 1) + timedelta(seconds=seconds)
        except (OverflowError, ValueError) as exc:
            raise ValueError(f"published_at {value!r} is not a plausible epoch time") from exc
    text = str(value).strip()
    try:
        return to_utc_naive(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return to_utc_naive(dateparser.parse(text))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unparseable published_at {text[:40]!r}") from exc
