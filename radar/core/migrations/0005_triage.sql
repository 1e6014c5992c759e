-- Dashboard stage: the triage log, the accountable record of what the
-- organisation decided about each signal. Rows are only ever appended.

CREATE SEQUENCE triage_seq START 1;

CREATE TABLE triage_log (
    entry_id     BIGINT PRIMARY KEY DEFAULT nextval('triage_seq'),
    topic_id     INTEGER NOT NULL,
    topic_label  VARCHAR,                  -- the label when the decision was taken
    "at"         TIMESTAMP NOT NULL DEFAULT current_timestamp,
    who          VARCHAR NOT NULL,         -- the person who made the change
    from_status  VARCHAR,                  -- NULL for the first entry of a topic
    to_status    VARCHAR NOT NULL CHECK (to_status IN ('new', 'assessing', 'act', 'watch', 'dismissed')),
    owner        VARCHAR,                  -- who follows the topic up
    note         VARCHAR
);

-- The current status per topic: its latest triage entry.
CREATE VIEW triage_current AS
SELECT topic_id, topic_label, "at", who, to_status AS status, owner, note
FROM triage_log
QUALIFY row_number() OVER (PARTITION BY topic_id ORDER BY entry_id DESC) = 1;
