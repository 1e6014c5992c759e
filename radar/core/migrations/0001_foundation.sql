-- Foundation: sources, documents, crawl runs and fetch errors.
-- All timestamps are UTC without a time zone.

CREATE TABLE sources (
    name      VARCHAR PRIMARY KEY,
    type      VARCHAR NOT NULL,          -- feed | sitemap | listing | forum | export | import
    url       VARCHAR,
    channel   VARCHAR NOT NULL,          -- news | policy | citizen
    added_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE documents (
    doc_id         VARCHAR PRIMARY KEY,  -- stable id: hash of the canonical URL (or source + content)
    url            VARCHAR,
    canonical_url  VARCHAR,
    title          VARCHAR,
    text           VARCHAR NOT NULL,
    published_at   TIMESTAMP,
    fetched_at     TIMESTAMP NOT NULL,
    source         VARCHAR NOT NULL,
    channel        VARCHAR NOT NULL,
    language       VARCHAR,
    author_hash    VARCHAR,              -- keyed hash of the author; the name is never stored
    content_hash   VARCHAR NOT NULL
);

CREATE SEQUENCE crawl_run_seq START 1;

CREATE TABLE crawl_runs (
    run_id         BIGINT PRIMARY KEY DEFAULT nextval('crawl_run_seq'),
    source         VARCHAR NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    pages          INTEGER NOT NULL DEFAULT 0,
    new_documents  INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    status         VARCHAR NOT NULL       -- running | ok | partial | failed
);

CREATE TABLE fetch_errors (
    run_id  BIGINT,
    source  VARCHAR NOT NULL,
    url     VARCHAR,                      -- the URL, or FILE:LINE for an imported row
    reason  VARCHAR NOT NULL,
    "at"    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Every source that carried a document: the original and its syndicated copies
-- (same canonical URL, same content, or a near-duplicate of the same story).
-- A story carried by ten sites is one document with ten rows here.
CREATE TABLE document_sources (
    doc_id    VARCHAR NOT NULL,
    source    VARCHAR NOT NULL,
    url       VARCHAR,
    seen_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (doc_id, source)
);
