"""Progress display for long work: a rich bar on stderr, quiet when not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    """A context manager with `update(done)` and optional `total`; draws on stderr."""

    def __init__(self, description: str, total: int | None = None) -> None:
        self.description = description
        self.total = total
        self._progress = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
            disable=not sys.stderr.isatty(),
        )
        self._task = None

    def __enter__(self) -> Progress:
        self._progress.__enter__()
        self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def update(self, done: int, total: int | None = None, description: str | None = None) -> None:
        """Set how much is done (and optionally the total or the description)."""
        kwargs = {"completed": done}
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._progress.update(self._task, **kwargs)

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)


#: What library functions accept as `progress`: `progress(done, total, description)`
#: (a `Progress.update` fits) or a plain `progress(done, total)`.
ProgressCallback = Callable[..., None]


def report(progress: ProgressCallback | None, done: int, total: int | None, description: str) -> None:
    """Tell `progress` (if any) how far a step is, whichever of the two signatures it has."""
    if progress is None:
        return
    try:
        progress(done, total, description)
    except TypeError:  # a plain progress(done, total) callable
        progress(done, total)
