-- Privacy and access (base: radar.core.privacy_log, radar.core.access).

-- What was done with personal data, by whom: erasures, exports that include
-- personal data, analyst copies, salt rotations. Rows are only appended and never
-- hold the content concerned (an erasure logs counts, not the erased text or URL).
CREATE SEQUENCE privacy_log_seq START 1;

CREATE TABLE privacy_log (
    entry_id  BIGINT PRIMARY KEY DEFAULT nextval('privacy_log_seq'),
    "at"      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    action    VARCHAR NOT NULL,      -- erase | export | export_personal | analyst_copy | salt_rotation
    actor     VARCHAR,               -- who did it: dashboard user or the operating-system user
    detail    VARCHAR                -- counts and options only
);

-- Failed dashboard sign-ins, kept so a restart does not reset the lockout.
CREATE TABLE login_failures (
    username  VARCHAR NOT NULL,      -- the name typed (lower-cased)
    "at"      TIMESTAMP NOT NULL
);

-- Documents erased on request: their ids only, so an import or crawl does not
-- bring the same document back.
CREATE TABLE erased_documents (
    doc_id     VARCHAR PRIMARY KEY,
    erased_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
