"""Benchmark near-duplicate recognition on the demo corpus: syndicated copies found, distinct
stories wrongly merged, for the fingerprint over the whole text and over the story's core.

    python bench/dedup.py [--seed 2026] [--scale 1.0] [--bits 8]

Every demo article page and every syndicated copy (the carrier adds "This story first
appeared in ...") is extracted as the crawler does (trafilatura); originals are indexed
first, then each copy is looked up.
"""

from __future__ import annotations

import argparse
import time
from datetime import date


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--bits", type=int, default=8)
    args = ap.parse_args()

    from crawlers.dedup import DedupIndex, simhash, story_words, words
    from crawlers.extract import extract_html
    from radar.app.demo.corpus import generate
    from radar.app.demo.pages import article_html

    corpus = generate(seed=args.seed, scale=args.scale, today=date(2026, 5, 20))
    started = time.perf_counter()
    pages = {}
    for a in corpus.articles:
        for outlet in [a.outlet, *a.also_in]:
            html = article_html(a, outlet, f"http://{outlet}.example").decode()
            doc = extract_html(html, f"http://{outlet}.example/{a.slug}.html")
            pages[(a.slug, outlet)] = (doc.text, doc.title)
    extract_s = time.perf_counter() - started
    copies = sum(len(a.also_in) for a in corpus.articles)
    print(f"demo corpus seed {args.seed} scale {args.scale}: {len(corpus.articles)} articles, "
          f"{copies} syndicated copies (extracted in {extract_s:.1f} s)")
    methods = {
        "whole text": lambda text, title: words(text),
        "story core": story_words,
    }
    for name, tokens in methods.items():
        index = DedupIndex(max_bits=args.bits)
        fps = {k: simhash(tokens(text, title)) for k, (text, title) in pages.items()}
        merged = 0
        for a in corpus.articles:
            key = (a.slug, a.outlet)
            other = index.near(fps[key])
            if other is not None and other != a.slug:
                merged += 1
            index.add(a.slug, a.slug, None, fps[key])
        found = sum(index.near(fps[(a.slug, o)]) == a.slug
                    for a in corpus.articles for o in a.also_in)
        print(f"{name:>10}: copies recognised {found}/{copies}, missed {copies - found}; "
              f"distinct stories merged {merged}")


if __name__ == "__main__":
    main()
