-- NLP stage: terms common to the whole corpus in every period, learned at every
-- relabel (nlp/terms.py common_terms). They are never topic terms or label words;
-- `radar backtest` measures label readability against them.

CREATE TABLE common_terms (
    term        VARCHAR PRIMARY KEY,     -- a lemma or lemma bigram
    spread      DOUBLE NOT NULL,         -- (effective topics of the term - 1) / (of all passages - 1)
    learned_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
