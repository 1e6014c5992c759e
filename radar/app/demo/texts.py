# ruff: noqa: E501  (data: one template sentence per line reads better than split strings)
"""Shared phrasing for the demo corpus: frames around theme sentences, titles, usernames."""

from __future__ import annotations

import random

QUOTES = [
    '"[Residents have told us|People keep telling us] that {label} matters to them, and we are listening," said {official}.',
    '"We want to get {label} right for [every neighbourhood|people in {place}|the whole city]," said {official}.',
    '"[This is|It is] a [difficult|tight] budget, but {label} remains a priority," {official} said.',
    '{official} said the council would [report back|publish an update] on {label} [in {month}|after the summer].',
    '"[We have heard|We hear] a lot about {label} at ward forums," said {official}.',
    'According to {officer}, [demand|interest] around {label} has [grown|changed] over the past year.',
    '[Critics|Opposition councillors] say the plans for {label} [do not go far enough|came too late].',
    '"{label} [affects|touches] [families|everyone] in {place}," said {resident}.',
]

NEWS_CLOSING = [
    "The [proposals|plans|recommendations] will go to {committee} in {month}.",
    "Residents can [comment|give their views] on the council website until the end of {month}.",
    "{group} [have been invited|were asked] to respond [to the plans|before a final decision].",
    "A [report|decision] is expected [in {month}|later this year|before the budget is set].",
    "[The council|{council}] said it would publish [the results|a summary of responses] online.",
    "The scheme will be reviewed after {n} months.",
    "[Figures|Data] for {place} will be published [each quarter|every month].",
]

POLICY_SECTIONS = ["Summary", "Background", "Evidence", "Options", "Recommendations"]

POLICY_FRAMES = {
    "Summary": ["This report sets out [the position on|proposals for] the matters below for {committee}.",
                "[Members|The committee] are asked to note the report and agree the next steps.",
                "The report responds to [a motion|questions] raised at {committee}."],
    "Background": ["[Demand|Pressure] on the service has [grown|changed] since the last review.",
                   "The previous strategy ran until {year} and is being refreshed.",
                   "Engagement with {group} informed this report."],
    "Evidence": ["Service data for the last {n} months [shows|suggests] a clear pattern.",
                 "Benchmarking against [twelve|sixteen|twenty] comparable authorities was carried out.",
                 "An equality impact assessment found no disproportionate adverse effects."],
    "Options": ["Option one is to continue as now; option two is a pilot in {place}.",
                "The [preferred|recommended] option can be delivered within existing budgets.",
                "A full roll-out would cost {money} over [three|four|five] years."],
    "Recommendations": ["Officers recommend that {committee} approves the preferred option.",
                        "Progress will be reported to {committee} in {month}.",
                        "[Delegated authority|Authority] is sought to agree the detailed arrangements."],
}

POLICY_TITLES = [
    "{label}: [annual report|progress report|service review]",
    "{label}: [options appraisal|strategy {year} to {year}]",
    "[Report to {committee}|Committee report]: {label}",
]

OPENERS = [
    "I live in {place} and [work shifts|have two kids|am retired|commute by bike|care for my mum].",
    "Long-time reader, first post here.",
    "Following up on the thread from last month.",
    "Raised this at the ward forum in {place} too.",
    "Not sure this is the right category, but here goes.",
    "Quick question for the council people on here.",
    "Been thinking about this since the last consultation.",
    "My neighbour in {place} asked me to post this.",
]

CLOSERS = [
    "Anyone else feel the same?",
    "Just my two cents.",
    "Would love to hear what others think.",
    "Has anyone asked their councillor about this?",
    "Thanks for reading.",
    "Rant over.",
    "Happy to help organise something if others are keen.",
    "Is anyone from the council reading this forum?",
]

REAL_THREAD_TITLES = [
    "What should the council do next year?",
    "Ideas for making {city} better",
    "[Open thread|Open discussion]: your priorities",
    "Things I would change about living here",
    "Suggestions box",
    "[Budget consultation|Budget time]: what matters to you?",
    "Say it here: what is not working?",
    "Any ideas from {place}?",
    "[Big|Small] changes we could make",
    "Feedback for our councillors",
    "If you ran the city for a day",
    "[Thoughts|Views] from {place} residents",
]

_FIRST = ["quiet", "river", "maple", "urban", "green", "north", "brave", "sunny", "old", "busy",
          "tidy", "civic", "little", "happy", "rainy", "late", "early", "lucky", "wild", "kind"]
_SECOND = ["heron", "walker", "reader", "cyclist", "baker", "gardener", "neighbour", "parent",
           "commuter", "teacher", "fox", "owl", "badger", "kestrel", "rover", "dreamer", "maker",
           "voter", "runner", "painter"]


def usernames(rng: random.Random, n: int) -> list[str]:
    """n distinct forum usernames, like `quiet_heron42`."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        name = f"{rng.choice(_FIRST)}_{rng.choice(_SECOND)}{rng.randint(1, 99)}"
        seen.setdefault(name, None)
    return list(seen)
