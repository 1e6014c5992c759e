-- Ingestion you can trust (issue 14): every `radar import` accounts for every row.
-- rows_read = stored + already_present + duplicates + rejected, always.
CREATE TABLE import_runs (
    run_id           BIGINT PRIMARY KEY,     -- its crawl_runs row (rejected rows: fetch_errors)
    file             VARCHAR NOT NULL,       -- the file's name as given
    source           VARCHAR NOT NULL,       -- the run's source: --source, else import:<file name>
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    status           VARCHAR NOT NULL,       -- running | ok | partial | failed | interrupted
    rows_read        BIGINT NOT NULL DEFAULT 0,
    stored           BIGINT NOT NULL DEFAULT 0,  -- new documents
    already_present  BIGINT NOT NULL DEFAULT 0,  -- the same document was in the warehouse before
    duplicates       BIGINT NOT NULL DEFAULT 0,  -- the same document earlier in this file
    rejected         BIGINT NOT NULL DEFAULT 0,  -- not stored; line and reason in fetch_errors
    message          VARCHAR                     -- why it failed, when it did
);

-- Document URLs whose fetch failed, so a permanently broken page is not fetched every run:
-- after a failure it waits retry_after (doubling with each failure), and after
-- [crawl] give_up_after failures the crawler gives up on it (gave_up) and says so in
-- fetch_errors. A successful fetch removes its row; a changed index marker retries at once.
CREATE TABLE broken_urls (
    url          VARCHAR PRIMARY KEY,     -- the crawl_state key (canonical URL)
    source       VARCHAR NOT NULL,
    failures     INTEGER NOT NULL,        -- failed fetches in a row
    reason       VARCHAR NOT NULL,        -- the last failure's reason
    marker       VARCHAR,                 -- the index's change hint when it last failed
    first_failed TIMESTAMP NOT NULL,
    last_failed  TIMESTAMP NOT NULL,
    retry_after  TIMESTAMP,               -- not fetched again before this
    gave_up      BOOLEAN NOT NULL DEFAULT false
);
