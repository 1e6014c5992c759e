-- Alerts stage: subscriptions, the outbox of e-mails and the log of alerted topics.

CREATE SEQUENCE subscription_seq START 1;

-- Who hears about what. Synced from [[subscriptions]] in radar.toml (origin 'config')
-- or managed with `radar subscriptions` (origin 'cli').
CREATE TABLE subscriptions (
    subscription_id  BIGINT PRIMARY KEY DEFAULT nextval('subscription_seq'),
    email            VARCHAR NOT NULL,          -- lower-cased address
    areas            VARCHAR[] NOT NULL,        -- empty = all service areas
    keywords         VARCHAR[] NOT NULL,        -- empty = any topic
    channels         VARCHAR[] NOT NULL,        -- empty = all channels
    min_ring         VARCHAR NOT NULL,          -- Act | Prepare | Watch | Monitor
    frequency        VARCHAR NOT NULL,          -- immediate | daily | weekly
    score_threshold  DOUBLE,                    -- also alert when the score rises past this
    active           BOOLEAN NOT NULL DEFAULT true,
    origin           VARCHAR NOT NULL,          -- config | cli
    config_hash      VARCHAR,                   -- hash of the radar.toml entry last applied
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    last_run_id      BIGINT,                    -- radar run last evaluated: the trigger baseline
    last_message_at  TIMESTAMP,                 -- when its last message was queued (digest clock)
    UNIQUE (email, frequency)
);

-- Every message, recorded before it is sent; the full MIME text is kept so a
-- retry sends the same bytes with the same Message-ID.
CREATE TABLE alert_outbox (
    message_id       VARCHAR PRIMARY KEY,       -- the Message-ID header, with angle brackets
    subscription_id  BIGINT NOT NULL,
    recipient        VARCHAR NOT NULL,
    subject          VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,          -- immediate | daily | weekly
    run_id           BIGINT,                    -- radar run the message reports on
    topic_ids        INTEGER[] NOT NULL,
    message          VARCHAR NOT NULL,          -- RFC 5322 message as sent
    state            VARCHAR NOT NULL,          -- queued | sending | sent | failed | unknown
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    created_at       TIMESTAMP NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    claimed_by       VARCHAR,                   -- host:pid:run of the process delivering it
    claimed_at       TIMESTAMP,
    data_started_at  TIMESTAMP,                 -- set just before SMTP DATA
    sent_at          TIMESTAMP,
    smtp_response    VARCHAR                    -- the server's reply accepting the message
);

-- One row per topic per message: what each subscriber was told, and why.
CREATE TABLE alert_log (
    message_id       VARCHAR NOT NULL,
    subscription_id  BIGINT NOT NULL,
    email            VARCHAR NOT NULL,
    topic_id         INTEGER NOT NULL,
    run_id           BIGINT NOT NULL,
    period_start     DATE,
    ring             VARCHAR NOT NULL,
    previous_ring    VARCHAR,                   -- ring at the baseline; NULL = was not on the radar
    score            DOUBLE NOT NULL,
    event            VARCHAR NOT NULL,          -- entered | moved closer | crossed threshold
    logged_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, topic_id)
);
