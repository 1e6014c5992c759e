-- Crawler state: what each URL looked like when last fetched (for conditional GET
-- and incremental crawls), near-duplicate fingerprints, earlier versions of
-- documents whose page changed, and the thread context of forum posts.

-- One row per URL the crawlers have fetched or stored. `url` is the canonical URL
-- (plus '#key' for a forum post or an export row that share one page).
CREATE TABLE crawl_state (
    url            VARCHAR PRIMARY KEY,
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

-- 64-bit SimHash of each crawled document's word 3-grams: near-duplicates (the
-- same wire story re-edited on another site) differ in a few bits only.
CREATE TABLE document_fingerprints (
    doc_id   VARCHAR PRIMARY KEY,
    simhash  BIGINT NOT NULL,              -- the unsigned 64-bit value stored as two's complement
    n_words  INTEGER NOT NULL
);

-- The previous text of a document each time its page changed; `documents`
-- always holds the latest version.
CREATE TABLE document_versions (
    doc_id        VARCHAR NOT NULL,
    version       INTEGER NOT NULL,        -- 1 = the first text stored, counting up
    title         VARCHAR,
    text          VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    fetched_at    TIMESTAMP NOT NULL,      -- when that version was fetched
    replaced_at   TIMESTAMP NOT NULL,      -- when a newer version replaced it
    PRIMARY KEY (doc_id, version)
);

-- Thread context of each forum post document (channel citizen).
CREATE TABLE forum_posts (
    doc_id        VARCHAR PRIMARY KEY,
    source        VARCHAR NOT NULL,
    thread_url    VARCHAR NOT NULL,
    thread_title  VARCHAR,
    post_number   INTEGER,                 -- position in the thread (1 = opening post)
    reply_to      INTEGER                  -- post_number it answers, when known
);
