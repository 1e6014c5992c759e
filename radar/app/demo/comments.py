"""Real citizen comments for the demo forum (Polis open data, CC BY 4.0).

`select_comments` picks, from the Polis conversations in the shared fixtures,
comments that were not rejected by moderators (`moderated != -1`) and that talk
about a local public service, tagging each with its service area by keywords.
The result ships in `radar/demo/data/citizen_comments.csv` (attribution in
`data/ATTRIBUTION.md`); `load_comments` reads it at demo time. Regenerate with
`python -m radar.app.demo.comments ../shared/fixtures/citizen-polis`.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Conversations about local and public services (national campaign politics and
# sports medicine are left out: they are not what a city's radar watches).
CONVERSATIONS = [
    "american-assembly.bowling-green", "bg2050-volunteers", "scoop-hivemind.affordable-housing",
    "scoop-hivemind.biodiversity", "scoop-hivemind.freshwater", "london.youth.policing",
    "scoop-hivemind.taxes", "scoop-hivemind.ubi", "15-per-hour-seattle",
    "canadian-electoral-reform",
]

AREA_KEYWORDS: dict[str, str] = {
    "libraries": r"librar|books?\b|reading",
    "transport": r"\broads?\b|traffic|\bbus|bike|cycl|sidewalk|pavement|parking|lanes?\b|transit|"
                 r"street|walkab|\bcars?\b|drivers?",
    "housing": r"hous|rent|homeless|apartment|landlord|afford|homes?\b|zoning",
    "health and care": r"health|doctor|hospital|opioid|mental|drug|addict|\bcare\b|clinic",
    "environment and energy": r"water|river|climate|recycl|pollut|tree|green|wildlife|biodivers|"
                              r"species|predator|farm|energy|solar|environment|conserv",
    "education": r"school|teacher|educat|universit|college|student|childcare|wku",
    "safety": r"police|polic|crime|safety|safe\b|violen|gun|fire\b|stop and search",
    "democracy and participation": r"vote|voting|elect|council|democra|citizen|represent|"
                                   r"government|mmp|stv|referend",
    "culture and leisure": r"park|arts?\b|museum|festival|music|sport|downtown|restaurant|"
                           r"entertain|theat",
    "economy and work": r"wage|tax|income|\bjobs?\b|employ|business|ubi\b|basic income|"
                        r"worker|poverty|gst",
}
_AREA_RE = {area: re.compile(rx, re.I) for area, rx in AREA_KEYWORDS.items()}
MIN_WORDS = 8


@dataclass(frozen=True)
class Comment:
    """One real comment: where it came from, its (pseudonymous) author and its area."""

    conversation: str
    comment_id: str
    author_id: str
    area: str
    text: str


def area_of(text: str) -> str | None:
    """The service area whose keywords the text matches most often, or None."""
    best, hits = None, 0
    for area, rx in _AREA_RE.items():
        n = len(rx.findall(text))
        if n > hits:
            best, hits = area, n
    return best


def select_comments(src: Path) -> list[Comment]:
    """Relevant, non-rejected comments of at least MIN_WORDS words from the Polis folders."""
    out: list[Comment] = []
    for conv in CONVERSATIONS:
        path = src / conv / "comments.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = " ".join((row.get("comment-body") or "").split())
                if row.get("moderated") == "-1" or len(text.split()) < MIN_WORDS:
                    continue
                area = area_of(text)
                if area:
                    out.append(Comment(conv, row["comment-id"], row["author-id"], area, text))
    return out


FIELDS = ["conversation", "comment_id", "author_id", "area", "text"]


def write_comments(comments: list[Comment], path: Path) -> None:
    """Write the selection as CSV (the file shipped in the package)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for c in comments:
            w.writerow([c.conversation, c.comment_id, c.author_id, c.area, c.text])


def load_comments() -> list[Comment]:
    """The comments shipped with the package."""
    ref = resources.files("radar.app.demo").joinpath("data/citizen_comments.csv")
    with ref.open("r", encoding="utf-8", newline="") as fh:
        return [Comment(**{k: row[k] for k in FIELDS}) for row in csv.DictReader(fh)]


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/citizen-polis")
    selected = select_comments(src)
    target = Path(__file__).parent / "data" / "citizen_comments.csv"
    write_comments(selected, target)
    print(f"{len(selected)} comments -> {target}")
