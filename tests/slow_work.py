"""A stand-in for an extractor stuck on a crafted document (cheap to import in a worker)."""

import time


def spin(seconds: float) -> str:
    """Busy the CPU for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"
