"""The default service-area taxonomy that `[[areas]]` starts from (topics are assigned to these)."""

from __future__ import annotations

DEFAULT_AREAS: list[tuple[str, str]] = [
    (
        "libraries",
        "Public libraries: lending, e-books, opening hours, "
        "makerspaces, study and work spaces, reading programmes",
    ),
    (
        "transport",
        "Public transport, buses, trains, cycling, "
        "bike lanes, walking, e-scooters, parking, roads and traffic",
    ),
    ("housing", "Affordable housing, rents, homelessness, social housing, planning and building permits"),
    ("health and care", "Hospitals, doctors, mental health, elderly care, social care, public health"),
    (
        "environment and energy",
        "Climate, heat pumps, energy grants, renewable energy, "
        "air quality, waste, recycling, green spaces, water",
    ),
    ("education", "Schools, teachers, universities, childcare, adult learning and skills"),
    ("safety", "Police, crime, emergency services, fire, community safety, youth violence"),
    (
        "digital services",
        "Online public services, digital identity, apps, "
        "broadband, data protection, accessibility of websites",
    ),
    (
        "democracy and participation",
        "Elections, voting, consultations, "
        "citizen participation, council decisions, transparency",
    ),
    ("culture and leisure", "Museums, arts, sport, parks, festivals, community centres"),
    (
        "economy and work",
        "Jobs, wages, minimum wage, "
        "taxes, local business, income support, universal basic income",
    ),
]
