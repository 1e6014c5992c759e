-- NLP stage: passages, their embeddings, topics and topic time series.

CREATE TABLE passages (
    passage_id          VARCHAR PRIMARY KEY,   -- '<doc_id>:<seq>'
    doc_id              VARCHAR NOT NULL,
    seq                 INTEGER NOT NULL,      -- 0-based position in the document
    text                VARCHAR NOT NULL,
    n_words             INTEGER NOT NULL,
    is_expectation      BOOLEAN NOT NULL DEFAULT false,
    expectation_phrase  VARCHAR,
    created_at          TIMESTAMP NOT NULL DEFAULT current_timestamp,
    language            VARCHAR,               -- language the passage was processed as
    terms               VARCHAR                -- lemmas for topic terms (stop words removed), space-separated
);

CREATE TABLE passage_embeddings (
    passage_id  VARCHAR PRIMARY KEY,
    model       VARCHAR NOT NULL,
    vector      FLOAT[] NOT NULL               -- L2-normalised sentence embedding
);

CREATE TABLE topic_models (
    model_version  VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    kind           VARCHAR NOT NULL,          -- fit | refit | discover | assign
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
    updated_at               TIMESTAMP NOT NULL DEFAULT current_timestamp,
    centroid                 FLOAT[]                -- mean embedding of its passages (not normalised)
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

-- All passages per period and channel, topical or not: the denominator for shares.
CREATE TABLE period_totals (
    period_start          DATE NOT NULL,
    channel               VARCHAR NOT NULL,
    passages              INTEGER NOT NULL,
    documents             INTEGER NOT NULL,
    sources               INTEGER NOT NULL,
    authors               INTEGER NOT NULL,
    expectation_passages  INTEGER NOT NULL DEFAULT 0,
    topical_passages      INTEGER NOT NULL DEFAULT 0,  -- of which assigned to a topic
    PRIMARY KEY (period_start, channel)
);

-- The service-area taxonomy as last embedded (from radar.toml [[areas]]).
CREATE TABLE service_areas (
    name         VARCHAR PRIMARY KEY,
    description  VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    vector       FLOAT[] NOT NULL
);

CREATE SEQUENCE nlp_run_seq START 1;

-- One row per `radar analyze` NLP run that changed something.
CREATE TABLE nlp_runs (
    run_id            BIGINT PRIMARY KEY DEFAULT nextval('nlp_run_seq'),
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    action            VARCHAR NOT NULL,       -- fit | refit | discover | assign | relabel
    new_passages      INTEGER NOT NULL DEFAULT 0,
    embedded          INTEGER NOT NULL DEFAULT 0,
    assigned          INTEGER NOT NULL DEFAULT 0,
    new_topics        INTEGER NOT NULL DEFAULT 0,
    model_version     VARCHAR,
    period            VARCHAR,                -- [analysis] period the time series were built with
    settings_hash     VARCHAR                 -- hash of settings that change labels, areas and series
);
