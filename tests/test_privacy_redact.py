"""PII redaction (radar.core.pii through radar.core.privacy.redact): each kind of personal
data, the checksums that keep ordinary numbers, forum handles pseudonymised."""

from __future__ import annotations

import pytest

from radar.core import pii_recognisers as rec
from radar.core.privacy import author_hash, pseudonym, quote_markup, redact, redact_many

SALT = b"test-salt"


@pytest.mark.parametrize("text, value, placeholder", [
    ("Mail me: maria.virtanen@gmail.com thanks", "maria.virtanen@gmail.com", "<EMAIL>"),
    ("write to maria at kolumbus dot fi today", "maria at kolumbus dot fi", "<EMAIL>"),
    ("or maria(at)helsinki.fi", "maria(at)helsinki.fi", "<EMAIL>"),
    ("reach j.smith [at] city [dot] org now", "j.smith [at] city [dot] org", "<EMAIL>"),
    ("Call +358 40 123 4567 in the evening", "+358 40 123 4567", "<PHONE>"),
    ("Call 040 123 4567 in the evening", "040 123 4567", "<PHONE>"),
    ("ring (206) 384-2291 now", "(206) 384-2291", "<PHONE>"),
    ("hetu 131052-308T please", "131052-308T", "<ID_NUMBER>"),
    ("personnummer 811228-9874.", "811228-9874", "<ID_NUMBER>"),
    ("CPR 070761-4285 at the clinic", "070761-4285", "<ID_NUMBER>"),
    ("fødselsnummer 01010750160 on the letter", "01010750160", "<ID_NUMBER>"),
    ("SSN 536-22-1234 printed", "536-22-1234", "<ID_NUMBER>"),
    ("IBAN FI21 1234 5600 0007 85 for donations", "FI21 1234 5600 0007 85", "<IBAN>"),
    ("card 4111 1111 1111 1111 charged twice", "4111 1111 1111 1111", "<CARD_NUMBER>"),
    ("I live at Mannerheimintie 12 A 5, 00100 Helsinki and",
     "Mannerheimintie 12 A 5, 00100 Helsinki", "<ADDRESS>"),
    ("outside 123 Main Street, Springfield the lights", "123 Main Street", "<ADDRESS>"),
    ("I agree with Maria Virtanen on this.", "Maria Virtanen", "<PERSON>"),
    ("My neighbour Mr Eriksson complained.", "Eriksson", "<PERSON>"),
])
def test_each_kind_of_personal_data_becomes_its_placeholder(text, value, placeholder):
    out = redact(text)
    assert value not in out
    assert placeholder in out


@pytest.mark.parametrize("text", [
    "In 2017 about 1200 people came; tickets cost $15.50 and 45% agreed.",
    "The meeting is on 2024-01-15 at 18:30 in room 101.",
    "Raise the minimum wage to $15 per hour by 2021 for 250,000 workers.",
    "Bus line 550 runs every 10 minutes between 06:00 and 23:00.",
])
def test_ordinary_numbers_survive(text):
    assert redact(text) == text


def test_checksums_reject_lookalikes():
    assert rec.fi_hetu_ok("131052-308T") and not rec.fi_hetu_ok("131052-308X")
    assert rec.se_pnr_ok("811228-9874") and not rec.se_pnr_ok("811228-9875")
    assert rec.no_fnr_ok("01010750160") and not rec.no_fnr_ok("01010750161")
    assert rec.dk_cpr_ok("0707614285", separated=False)
    assert not rec.dk_cpr_ok("0707614286", separated=False)
    assert not rec.dk_cpr_ok("320761-4285", separated=True)  # no 32nd day
    assert rec.luhn_ok("4111111111111111") and not rec.luhn_ok("4111111111111112")
    assert rec.us_ssn_ok("536-22-1234") and not rec.us_ssn_ok("666-22-1234")
    assert redact("ticket 811228-9875 is void") == "ticket 811228-9875 is void"


def test_mentions_and_quotes_get_the_authors_pseudonym():
    text = ('[quote="alice, post:3, topic:7"]buses[/quote]\n@Bob wrote:\nyes\n'
            "carol wrote:\nno. Thanks @dave_k!")
    out = redact(text, salt=SALT)
    for name in ("alice", "Bob", "carol", "dave_k"):
        assert name not in out
        assert f"<USER:{author_hash(name, SALT)}>" in out
    assert pseudonym("@Alice", SALT) == pseudonym("alice", SALT)  # like the author hash
    assert redact("thanks @dave_k") == "thanks @<USER>"  # no salt: no pseudonym


def test_discourse_rendered_quote_title_becomes_markup():
    cooked = ('<aside class="quote no-group" data-username="alice" data-post="3" data-topic="7">'
              '<div class="title"><div class="quote-controls"></div>'
              '<img src="/a.png" class="avatar"> alice:</div><blockquote><p>More buses</p>'
              "</blockquote></aside><p>I agree</p>")
    marked = quote_markup(cooked)
    assert '[quote="alice"]' in marked and " alice:" not in marked
    assert "More buses" in marked


def test_batch_equals_single_and_keeps_empty():
    texts = ["Call 040 123 4567", None, "", "Nothing personal here."]
    assert redact_many(texts) == [redact(t) for t in texts]


def test_nothing_is_downloaded():
    import spacy

    from radar.core.pii import DEFAULT_MODEL

    assert spacy.util.is_package(DEFAULT_MODEL)  # loaded from the installed package
    assert tuple(rec._suffixes().suffix_list_urls) == ()  # bundled public suffix list only
