-- lake: skip (DuckLake tables have no keys: nothing to drop)
-- Performance issue #17, as 0014 for the passages: the tables a crawled document adds a row
-- to lose their PRIMARY KEY. DuckDB writes a key's index anew at the checkpoint after every
-- batch that adds rows; the ids are hashes and the URLs in no order, so a crawl batch of
-- 200 new documents written into a warehouse of 100,000 took 0.74 s, 0.63 of them in that
-- checkpoint, and 1.1 s at a million (bench/crawl_batches.py). The keys stay unique by the
-- code that writes them (`portable.upsert` merges on them, as on DuckLake, under the writer
-- lock); columns, defaults and NOT NULL are as before.
ALTER TABLE documents RENAME TO documents_keyed;
CREATE TABLE documents (
    doc_id         VARCHAR NOT NULL,     -- stable id: hash of the canonical URL (or source + content); unique (written by upsert)
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
INSERT INTO documents BY NAME SELECT * FROM documents_keyed;
DROP TABLE documents_keyed;

ALTER TABLE document_sources RENAME TO document_sources_keyed;
CREATE TABLE document_sources (
    doc_id    VARCHAR NOT NULL,          -- (doc_id, source) unique (written by upsert)
    source    VARCHAR NOT NULL,
    url       VARCHAR,
    seen_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO document_sources BY NAME SELECT * FROM document_sources_keyed;
DROP TABLE document_sources_keyed;

ALTER TABLE document_fingerprints RENAME TO document_fingerprints_keyed;
CREATE TABLE document_fingerprints (
    doc_id   VARCHAR NOT NULL,             -- unique (written by upsert)
    simhash  BIGINT NOT NULL,              -- the unsigned 64-bit value stored as two's complement
    n_words  INTEGER NOT NULL
);
INSERT INTO document_fingerprints BY NAME SELECT * FROM document_fingerprints_keyed;
DROP TABLE document_fingerprints_keyed;

ALTER TABLE forum_posts RENAME TO forum_posts_keyed;
CREATE TABLE forum_posts (
    doc_id        VARCHAR NOT NULL,        -- unique (written by upsert)
    source        VARCHAR NOT NULL,
    thread_url    VARCHAR NOT NULL,
    thread_title  VARCHAR,
    post_number   INTEGER,                 -- position in the thread (1 = opening post)
    reply_to      INTEGER                  -- post_number it answers, when known
);
INSERT INTO forum_posts BY NAME SELECT * FROM forum_posts_keyed;
DROP TABLE forum_posts_keyed;

ALTER TABLE crawl_state RENAME TO crawl_state_keyed;
CREATE TABLE crawl_state (
    url            VARCHAR NOT NULL,       -- unique (written by upsert)
    source         VARCHAR NOT NULL,       -- the source that last fetched it
    kind           VARCHAR NOT NULL,       -- document | index (feed, sitemap, listing, forum page)
    etag           VARCHAR,                -- ETag header of the last 200 response
    last_modified  VARCHAR,                -- Last-Modified header of the last 200 response, verbatim
    marker         VARCHAR,                -- change hint from the index (sitemap lastmod, feed entry date, topic last post)
    content_hash   VARCHAR,                -- hash of the stored text
    doc_id         VARCHAR,                -- the document it became (or was found a copy of)
    complete       BOOLEAN NOT NULL DEFAULT true,  -- false: stored from a fallback; fetched again next run
    first_seen     TIMESTAMP NOT NULL,
    last_fetched   TIMESTAMP NOT NULL,
    last_changed   TIMESTAMP               -- when its content last changed (NULL: never since first seen)
);
INSERT INTO crawl_state BY NAME SELECT * FROM crawl_state_keyed;
DROP TABLE crawl_state_keyed;
