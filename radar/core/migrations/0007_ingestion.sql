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
