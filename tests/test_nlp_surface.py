"""Readable labels: lemma terms written as the passages write them (nlp/surface.py)."""

from __future__ import annotations

from nlp.surface import readable_label, surface_form, term_pattern

TEXTS = [
    "We condemn the invasion of Kuwait by Iraq. The invasion of Kuwait must end.",
    "The invasion of Kuwait was a violation of the Charter; crimes against humanity followed.",
    "Crimes against humanity cannot go unpunished. HIV/AIDS is a threat, as are malaria and tuberculosis.",
    "The spread of HIV/AIDS in Africa, and of malaria and tuberculosis, calls for action.",
    "Non-permanent members of the Council; non-permanent seats.",
    "The history of Afghanistan, Afghanistan's neighbours and Kuwait.",
    "Climate change is here. Climate change again.",
    "NEPAD is the New Partnership. We support NEPAD fully.",
]


def test_terms_are_written_as_the_passages_write_them():
    assert surface_form("invasion kuwait", TEXTS) == "invasion of Kuwait"
    assert surface_form("crime humanity", TEXTS) == "crimes against humanity"
    assert surface_form("hiv aids", TEXTS) == "HIV/AIDS"
    assert surface_form("malaria tuberculosis", TEXTS) == "malaria and tuberculosis"
    assert surface_form("non permanent", TEXTS) == "non-permanent"
    assert surface_form("nepad", TEXTS) == "NEPAD"  # capitals as written
    assert readable_label(["invasion kuwait", "hiv aids"], TEXTS) == "invasion of Kuwait, HIV/AIDS"


def test_never_across_punctuation_nor_a_shorter_word():
    # "history, Afghanistan" would cross a comma; "of" is a short gap word, so this spells it:
    assert surface_form("history afghanistan", TEXTS) == "history of Afghanistan"
    assert surface_form("charter crime", TEXTS) == "charter crime"  # only across ";": lemma kept
    assert surface_form("kuwaiti", TEXTS) == "kuwaiti"  # "Kuwait" is shorter: not an inflection
    assert surface_form("ebola outbreak", TEXTS) == "ebola outbreak"  # nothing spells it


def test_a_capital_seen_only_at_a_sentence_start_is_dropped():
    assert surface_form("climate change", TEXTS) == "climate change"
    assert surface_form("climate change", ["In 2007: Climate change.", "Climate change!"]) == "climate change"
    assert surface_form("nepad", ["NEPAD works."]) == "NEPAD"


def test_gap_words_are_few_and_short():
    far = ["the invasion by the army of the republic of Kuwait"]
    assert surface_form("invasion kuwait", far) == "invasion kuwait"  # 6 words between
    long_gap = ["the invasion, unprovoked, of Kuwait", "invasion concerning Kuwait"]
    assert surface_form("invasion kuwait", long_gap) == "invasion kuwait"  # a comma; a 10-letter word
    assert term_pattern("crime humanity").fullmatch("crimes against humanity")
    assert not term_pattern("child").fullmatch("chill")
    assert term_pattern("child").fullmatch("children") and term_pattern("country").fullmatch("countries")


def test_usual_english_spelling_changes():
    assert term_pattern("country").fullmatch("countries")
    assert term_pattern("make").fullmatch("making") and term_pattern("life").fullmatch("lives")
    assert not term_pattern("country").fullmatch("countess")


def test_another_word_is_not_an_inflection_and_parts_never_repeat():
    texts = ["The people of Somalia.", "Somalia needs aid.", "The Somali refugees in Somalia."]
    assert surface_form("somali", texts) == "Somali"
    assert not term_pattern("somali").fullmatch("Somalia")
    assert readable_label(["somalia", "somali"], texts) == "Somalia, Somali"
    assert readable_label(["somalia", "somalia"], texts) == "Somalia, somalia"
    assert term_pattern("weapon").fullmatch("weapons") and term_pattern("iraq").fullmatch("Iraq’s")


def test_a_headline_capital_gives_way_to_the_text_and_an_acronym_does_not():
    texts = ["News - Flood Defences built", "the new flood defences", "Flood Defences: more",
             "with flood defences", "Fire engines in the Flood Defences area"]
    assert surface_form("flood defence", texts) == "flood defences"
    gp = ["more GP appointments", "two GP appointments"]
    assert surface_form("gp appointment", gp) == "GP appointments"
