-- NLP stage: passages, their embeddings, topics and topic time series.

CREATE TABLE passages (
    passage_id          VARCHAR PRIMARY KEY,   -- '<doc_id>:<seq>'
    doc_id              VARCHAR NOT NULL,
    seq                 INTEGER NOT NULL,      -- 0-based position in the document
    text                VARCHAR NOT NULL,
    n_words             INTEGER NOT NULL,
    is_expectation      BOOLEAN NOT NULL DEFAULT false,
    expectation_phrase  VARCHAR,
    created_at          TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE passage_embeddings (
    passage_id  VARCHAR PRIMARY KEY,
    model       VARCHAR NOT NULL,
    vector      FLOAT[] NOT NULL
);

CREATE TABLE topic_models (
    model_version  VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    kind           VARCHAR NOT NULL,          -- fit | refit | assign
    n_passages     INTEGER NOT NULL,
    n_topics       INTEGER NOT NULL,
    path           VARCHAR,                   -- saved model folder beside the warehouse
    parameters     JSON
);

CREATE TABLE topics (
    topic_id                 INTEGER PRIMARY KEY,   -- stable across runs
    label                    VARCHAR NOT NULL,
    top_terms                VARCHAR[] NOT NULL,
    service_area             VARCHAR NOT NULL,      -- an area name from radar.toml, or 'other'
    area_similarity          DOUBLE,
    first_seen               DATE,                  -- start of the period it first appeared in
    size                     INTEGER NOT NULL,      -- passages assigned
    expectation_share        DOUBLE NOT NULL DEFAULT 0,
    representative_passages  VARCHAR[],             -- passage_ids, most typical first
    model_version            VARCHAR NOT NULL,
    active                   BOOLEAN NOT NULL DEFAULT true,  -- false once merged into another
    merged_into              INTEGER,
    updated_at               TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE passage_topics (
    passage_id     VARCHAR PRIMARY KEY,
    topic_id       INTEGER NOT NULL,          -- -1 = outlier (no topic)
    probability    DOUBLE,
    model_version  VARCHAR NOT NULL,
    assigned_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE topic_periods (
    topic_id              INTEGER NOT NULL,
    period_start          DATE NOT NULL,
    channel               VARCHAR NOT NULL,
    passages              INTEGER NOT NULL,
    documents             INTEGER NOT NULL,
    sources               INTEGER NOT NULL,
    authors               INTEGER NOT NULL,   -- distinct pseudonymous authors (citizen posts)
    expectation_passages  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, period_start, channel)
);
