"""One story, one document: syndicated copies whose carriers add their own short lines
(attribution, bylines, "read more") are recognised, so ten carriers make one document."""

from __future__ import annotations

import pytest
from crawl_web import (
    LocalWeb,
    article_html,
    make_project,
    offline_env,
    rows,
    source,
)

from crawlers.dedup import simhash, story_words, words

TITLE = "Bus recovery funding ends"
STORY = [  # a short wire story (48 words): a carrier's line is a large part of it
    "The bus recovery fund that kept routes running after the pandemic is ending this spring, "
    "the council said.",
    "Operators say withdrawing the recovery grant puts five routes at risk across the northern "
    "estates.",
    "The scheme will be reviewed after ten months and a summary of responses published online.",
]
CARRIER_LINES = [
    ([], ["This story first appeared in the Riverton Gazette."]),
    (["By Agency Reporter"], []),
    ([], ["Republished with permission.", "Read more local news at the Courier."]),
    (["Syndicated from the Riverton Gazette"], ["Share this story"]),
    ([], ["Originally published by the Valley Times on 3 May."]),
    (["From our partners at the Gazette"], []),
    ([], ["Copyright Riverton Gazette. All rights reserved."]),
    (["Staff reporter"], ["Comments are closed."]),
    ([], ["This article is republished under a Creative Commons licence."]),
    (["By Lena Hart, Riverton Gazette"], ["Follow us for more stories like this."]),
]


def _text(head: list[str], tail: list[str]) -> str:
    return "\n".join([TITLE, *head, *STORY, *tail])


def test_story_words_drop_carrier_lines_and_keep_the_title():
    core = story_words(_text(["By Agency Reporter"], ["This story first appeared in the Gazette."]),
                       TITLE)
    assert core == words("\n".join([TITLE, *STORY]))


def test_short_texts_keep_every_word():
    text = "Short title\nA few words only.\nAnother short line."
    assert story_words(text, "Short title") == words(text)


def test_long_edge_lines_are_story_not_boilerplate():
    text = "\n".join([TITLE, *STORY])
    assert story_words(text, TITLE) == words(text)


@pytest.mark.parametrize(("head", "tail"), CARRIER_LINES)
def test_every_carrier_copy_is_within_the_threshold(head, tail):
    original = simhash(story_words(_text([], []), TITLE))
    copy = simhash(story_words(_text(head, tail), TITLE))
    assert (original ^ copy).bit_count() <= 8


def test_carrier_lines_alone_push_whole_text_fingerprints_apart():
    """Why the core matters: on a short story, whole-text fingerprints of some of these
    copies are beyond the threshold."""
    original = simhash(words(_text([], [])))
    far = [h for h, t in CARRIER_LINES if (simhash(words(_text(h, t))) ^ original).bit_count() > 8]
    assert far


def test_a_story_carried_by_ten_sites_is_one_document_with_ten_carriers(tmp_path, monkeypatch):
    with LocalWeb() as web:
        offline_env(monkeypatch)
        sources = []
        for i, (head, tail) in enumerate(CARRIER_LINES):
            paras = [*head, *STORY, *tail]
            web.add(f"/site{i}/story.html", article_html(TITLE, paras))
            web.add(f"/site{i}/feed.rss",
                    '<rss version="2.0"><channel><title>Site</title><item>'
                    f"<title>{TITLE}</title><link>{web.url(f'/site{i}/story.html')}</link>"
                    "</item></channel></rss>", "application/rss+xml")
            sources.append(source(f"site-{i}", "feed", web.url(f"/site{i}/feed.rss"), "news"))
        cfg = make_project(tmp_path, sources)
        from crawlers.run import crawl_sources

        summaries = crawl_sources(cfg)
    assert rows(cfg, "SELECT count(*) FROM documents") == [(1,)]
    carriers = rows(cfg, "SELECT count(DISTINCT source) FROM document_sources")
    assert carriers == [(10,)]
    assert sum(s.new_documents for s in summaries) == 1
    assert sum(s.carried for s in summaries) == 9
