-- lake: skip (DuckLake tables have no keys: nothing to drop)
-- Performance issue #17: the passages, their vectors and their topic assignments lose their
-- PRIMARY KEY. DuckDB keeps a key in an index (ART) and writes it anew at the checkpoint
-- after every batch that adds rows: with the real ids (hashes, in random order), a batch of
-- 2,000 passages and vectors written into a 100,000-passage warehouse took 2.2 s, 2.0 of them
-- in that checkpoint, and 0.24 s without the keys (bench/write_batches.py). `radar analyze`
-- writes a batch per 2,000 documents. The ids stay unique by the code that writes them
-- (`portable.upsert` merges on them, as on DuckLake, under the writer lock); columns,
-- defaults and NOT NULL are as before.
ALTER TABLE passages RENAME TO passages_keyed;
CREATE TABLE passages (
    passage_id          VARCHAR NOT NULL,      -- '<doc_id>:<seq>', unique (written by upsert)
    doc_id              VARCHAR NOT NULL,
    seq                 INTEGER NOT NULL,
    text                VARCHAR NOT NULL,
    n_words             INTEGER NOT NULL,
    is_expectation      BOOLEAN NOT NULL DEFAULT false,
    expectation_phrase  VARCHAR,
    created_at          TIMESTAMP NOT NULL DEFAULT current_timestamp,
    language            VARCHAR,
    terms               VARCHAR,
    doc_content_hash    VARCHAR
);
INSERT INTO passages BY NAME SELECT * FROM passages_keyed;
DROP TABLE passages_keyed;

ALTER TABLE passage_embeddings RENAME TO passage_embeddings_keyed;
CREATE TABLE passage_embeddings (
    passage_id  VARCHAR NOT NULL,              -- unique (written by upsert)
    model       VARCHAR NOT NULL,
    vector      FLOAT[] NOT NULL
);
INSERT INTO passage_embeddings BY NAME SELECT * FROM passage_embeddings_keyed;
DROP TABLE passage_embeddings_keyed;

ALTER TABLE passage_topics RENAME TO passage_topics_keyed;
CREATE TABLE passage_topics (
    passage_id     VARCHAR NOT NULL,           -- unique (written by upsert)
    topic_id       INTEGER NOT NULL,
    probability    DOUBLE,
    model_version  VARCHAR NOT NULL,
    assigned_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO passage_topics BY NAME SELECT * FROM passage_topics_keyed;
DROP TABLE passage_topics_keyed;
