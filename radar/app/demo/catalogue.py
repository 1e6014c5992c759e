"""The demo's service catalogue and watch list, so the decision loop shows in `radar demo`.

Riverton's services are the ones the planted themes (radar/app/demo/planted.py) put
under pressure: the central library's hours and its programmes, the bus network,
street space, home energy grants, the permit desk and public toilets. The watch
list follows two small themes. Written into the demo's radar.toml as
`[[services]]` and `[[watch]]` (docs/decisions.md).
"""

from __future__ import annotations

# name, owner, owner_email, area, description, keywords
SERVICES: list[tuple[str, str, str, str, str, list[str]]] = [
    ("Library opening hours", "Head of Libraries", "libraries@riverton.example", "libraries",
     "Opening hours, card access, self-service and study space at the central and branch libraries",
     ["opening hours", "self-service", "library card"]),
    ("Library programmes and makerspace", "Head of Libraries", "libraries@riverton.example",
     "libraries", "Workshops, maker labs, 3D printing, repair cafes and creative technology in libraries",
     ["makerspace", "3d printer", "repair cafe"]),
    ("Bus network", "Transport Director", "transport@riverton.example", "transport",
     "Bus routes, timetables, fares and the bus recovery fund", ["bus", "fares"]),
    ("Street space and parking", "Transport Director", "transport@riverton.example", "transport",
     "Pavements, parking bays and enforcement for cars, bikes and rental e-scooters",
     ["e-scooter", "parking"]),
    ("Home energy grants", "Climate Officer", "climate@riverton.example", "environment and energy",
     "Grants and advice for heat pumps, insulation and lower energy bills at home",
     ["heat pump", "insulation"]),
    ("Permit and licensing desk", "Digital Services Lead", "digital@riverton.example",
     "digital services", "Applying for permits, licences and benefits online and at the desk, "
     "with identity checks", ["permit", "digital identity", "digital id"]),
    ("Public toilets", "Parks Manager", "parks@riverton.example", "health and care",
     "Public toilets and changing places in parks, the town centre and transport hubs",
     ["public toilet", "toilets"]),
]

# name, description, keywords
WATCH: list[tuple[str, str, list[str]]] = [
    ("Tram revival", "Calls to bring back the tram to Riverton", ["tram"]),
    ("Library lockers", "Lockers where residents pick up library books outside opening hours",
     ["library locker", "book locker"]),
]


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def catalogue_lines() -> list[str]:
    """`[[services]]` and `[[watch]]` tables for the demo's radar.toml."""
    lines = ["", "# The services the radar's topics are matched to (docs/decisions.md)."]
    for name, owner, email, area, description, keywords in SERVICES:
        lines += ["[[services]]", f"name = {_toml(name)}", f"owner = {_toml(owner)}",
                  f"owner_email = {_toml(email)}", f"area = {_toml(area)}",
                  f"description = {_toml(description)}", f"keywords = {_toml(keywords)}", ""]
    lines.append("# Themes followed even while they are small.")
    for name, description, keywords in WATCH:
        lines += ["[[watch]]", f"name = {_toml(name)}", f"description = {_toml(description)}",
                  f"keywords = {_toml(keywords)}", ""]
    return lines
