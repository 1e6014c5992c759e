"""What a demo theme is: texts to build documents from, and when each channel talks about it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Onset:
    """When a channel starts carrying a planted theme and how strongly it grows.

    `month` counts back from the last month of the timeline (-1 = the month
    before the last); `peak` is how many items of the theme the channel carries
    in the last month per item of its steady background volume (added on top of
    it), approached along a logistic curve of `speed` months. `fade` makes the
    curve fall instead: the theme was big and dies away.
    """

    month: int
    peak: float
    speed: float = 1.5
    fade: bool = False

    def weight(self, months_before_end: int) -> float:
        """The theme's share of the channel's items in the month `months_before_end` back."""
        t = -months_before_end - self.month  # months since onset (month is negative)
        if self.fade:
            # Strong until the onset month, then dies away.
            return self.peak / (1 + math.exp(t / self.speed))
        if t < 0:
            return 0.0
        span = -self.month
        mid = span * 0.6  # still climbing in the last months, as an emerging theme does
        return self.peak / (1 + math.exp(-(t - mid) / self.speed))


@dataclass
class Theme:
    """A theme of the corpus; background themes have no onsets and run at a steady volume."""

    key: str
    area: str
    label: str
    titles: list[str]
    facts: list[str]
    citizen: list[str]
    # Planted themes only:
    onsets: dict[str, Onset] = field(default_factory=dict)  # channel -> onset
    policy_titles: list[str] = field(default_factory=list)
    expect: str = ""  # what the radar should show, for PLANTED docs
    single_author: bool = False  # carried by one loud forum user (a narrow voice)

    @property
    def planted(self) -> bool:
        """Whether this theme was planted to rise or fade (rather than run steadily)."""
        return bool(self.onsets)
