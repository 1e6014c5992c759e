-- The decision loop (docs/decisions.md): the service catalogue and the watch list
-- (written through radar.core.catalogue), their embeddings (nlp stage), topic-service
-- matches, watch trajectories and fired triggers (decisions stage), and decisions
-- with their steps and signposts (radar.core.decisions). Decisions, steps,
-- signposts, match reviews and firings are only ever appended.

CREATE SEQUENCE service_seq START 1;

-- The organisation's services: from [[services]] in radar.toml (origin 'config'),
-- or added in the dashboard / with `radar services add` (origin 'dashboard' | 'cli').
CREATE TABLE services (
    service_id   BIGINT PRIMARY KEY DEFAULT nextval('service_seq'),
    name         VARCHAR NOT NULL UNIQUE,
    owner        VARCHAR,                    -- the person or team responsible
    owner_email  VARCHAR,                    -- where trigger notices for its decisions may go
    area         VARCHAR,                    -- service area ([[areas]] name); NULL = any
    description  VARCHAR NOT NULL DEFAULT '',
    keywords     VARCHAR[] NOT NULL DEFAULT [],
    origin       VARCHAR NOT NULL,           -- config | dashboard | cli
    active       BOOLEAN NOT NULL DEFAULT true,  -- false once removed from radar.toml
    added_by     VARCHAR,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE watch_seq START 1;

-- Themes a strategist wants followed even while they are small.
CREATE TABLE watch_items (
    watch_id     BIGINT PRIMARY KEY DEFAULT nextval('watch_seq'),
    name         VARCHAR NOT NULL UNIQUE,
    description  VARCHAR NOT NULL DEFAULT '',
    keywords     VARCHAR[] NOT NULL DEFAULT [],
    area         VARCHAR,                    -- subscribers of this area are told; NULL = all
    similarity   DOUBLE,                     -- passage match threshold; NULL = [decisions] default
    origin       VARCHAR NOT NULL,           -- config | dashboard | cli
    active       BOOLEAN NOT NULL DEFAULT true,
    added_by     VARCHAR,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- NLP stage: the embedding of each service and watch item (name, description, keywords).
CREATE TABLE catalogue_vectors (
    kind       VARCHAR NOT NULL,             -- service | watch
    item_id    BIGINT NOT NULL,
    text_hash  VARCHAR NOT NULL,             -- hash of the embedded text: re-embedded when it changes
    model      VARCHAR NOT NULL,
    vector     FLOAT[] NOT NULL,             -- L2-normalised
    PRIMARY KEY (kind, item_id)
);

-- Decisions stage: which topics touch which services, recomputed by every analyze.
CREATE TABLE service_matches (
    service_id    BIGINT NOT NULL,
    topic_id      INTEGER NOT NULL,
    score         DOUBLE NOT NULL,           -- 0..1, see docs/decisions.md
    similarity    DOUBLE,                    -- cosine of topic centroid and service embedding
    keyword_hits  VARCHAR[] NOT NULL,        -- service keywords found in the topic's label or terms
    passage_hits  VARCHAR[] NOT NULL,        -- representative passages naming a keyword
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (service_id, topic_id)
);

CREATE SEQUENCE match_review_seq START 1;

-- A person confirming or rejecting a topic-service match (the latest entry counts).
CREATE TABLE service_match_reviews (
    review_id   BIGINT PRIMARY KEY DEFAULT nextval('match_review_seq'),
    service_id  BIGINT NOT NULL,
    topic_id    INTEGER NOT NULL,
    verdict     VARCHAR NOT NULL CHECK (verdict IN ('confirmed', 'rejected')),
    who         VARCHAR NOT NULL,
    "at"        TIMESTAMP NOT NULL,
    note        VARCHAR
);

-- Every topic-service pair that counts: suggested matches not rejected, and pairs a
-- person confirmed (even below the threshold).
CREATE VIEW service_topics AS
WITH review AS (
    SELECT * FROM service_match_reviews
    QUALIFY row_number() OVER (PARTITION BY service_id, topic_id ORDER BY review_id DESC) = 1
)
SELECT coalesce(m.service_id, r.service_id) AS service_id,
       coalesce(m.topic_id, r.topic_id) AS topic_id,
       m.score, m.similarity, coalesce(m.keyword_hits, []) AS keyword_hits,
       coalesce(m.passage_hits, []) AS passage_hits,
       coalesce(r.verdict, 'suggested') AS status, r.who AS reviewed_by, r."at" AS reviewed_at
FROM service_matches m
FULL OUTER JOIN review r ON r.service_id = m.service_id AND r.topic_id = m.topic_id
WHERE coalesce(r.verdict, 'suggested') <> 'rejected';

-- Decisions stage: a watch item's trajectory, per period and channel.
CREATE TABLE watch_periods (
    watch_id      BIGINT NOT NULL,
    period_start  DATE NOT NULL,
    channel       VARCHAR NOT NULL,
    passages      INTEGER NOT NULL,
    documents     INTEGER NOT NULL,
    sources       INTEGER NOT NULL,          -- distinct carriers
    authors       INTEGER NOT NULL,          -- distinct pseudonymous citizen authors
    PRIMARY KEY (watch_id, period_start, channel)
);

-- Decisions stage: the passages that match a watch item, and why.
CREATE TABLE watch_matches (
    watch_id     BIGINT NOT NULL,
    passage_id   VARCHAR NOT NULL,
    similarity   DOUBLE,                     -- cosine to the watch item's embedding
    keyword      VARCHAR,                    -- the keyword found, if any
    PRIMARY KEY (watch_id, passage_id)
);

-- Decisions stage: subscribers told that a watch item moved (once per period each).
CREATE TABLE watch_alerts (
    watch_id         BIGINT NOT NULL,
    period_start     DATE NOT NULL,
    subscription_id  BIGINT NOT NULL,
    message_id       VARCHAR NOT NULL,       -- alert_outbox.message_id
    passages         INTEGER NOT NULL,
    baseline         DOUBLE NOT NULL,
    logged_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (watch_id, period_start, subscription_id)
);

CREATE SEQUENCE decision_seq START 1;

-- A decision: what the organisation is deciding, about which signals and services.
CREATE TABLE decisions (
    decision_id  BIGINT PRIMARY KEY DEFAULT nextval('decision_seq'),
    title        VARCHAR NOT NULL,
    owner        VARCHAR NOT NULL,
    owner_email  VARCHAR,                    -- trigger notices go here
    created_by   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- The signals (topics) and services a decision is about, with their names then.
CREATE TABLE decision_links (
    decision_id  BIGINT NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('topic', 'service')),
    ref_id       BIGINT NOT NULL,            -- topic_id or service_id
    label        VARCHAR,
    PRIMARY KEY (decision_id, kind, ref_id)
);

CREATE SEQUENCE decision_step_seq START 1;

-- The loop: need, ideas, feasibility, feedback, choice, implementation, reassessment.
CREATE TABLE decision_steps (
    entry_id        BIGINT PRIMARY KEY DEFAULT nextval('decision_step_seq'),
    decision_id     BIGINT NOT NULL,
    step            VARCHAR NOT NULL CHECK (step IN ('need', 'ideas', 'feasibility', 'feedback',
                                                     'choice', 'implementation', 'reassessment')),
    from_step       VARCHAR,                 -- NULL for the first entry
    who             VARCHAR NOT NULL,
    "at"            TIMESTAMP NOT NULL,
    why             VARCHAR NOT NULL,
    equity          VARCHAR,                 -- public-value considerations weighed at this step
    sustainability  VARCHAR,
    satisfaction    VARCHAR,                 -- citizen satisfaction
    trust           VARCHAR
);

CREATE VIEW decision_current AS
SELECT d.decision_id, d.title, d.owner, d.owner_email, d.created_by, d.created_at,
       s.step, s.who AS step_by, s."at" AS step_at, s.why
FROM decisions d
LEFT JOIN (SELECT * FROM decision_steps
           QUALIFY row_number() OVER (PARTITION BY decision_id ORDER BY entry_id DESC) = 1) s
       USING (decision_id);

CREATE SEQUENCE signpost_seq START 1;

-- Indicators that say when to revisit a decision.
CREATE TABLE signposts (
    signpost_id  BIGINT PRIMARY KEY DEFAULT nextval('signpost_seq'),
    decision_id  BIGINT NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('share', 'growth', 'authors', 'new_channel',
                                                  'watch_term')),
    topic_id     INTEGER,                    -- share | growth | authors | new_channel
    watch_id     BIGINT,                     -- watch_term
    threshold    DOUBLE NOT NULL,
    baseline     JSON NOT NULL,              -- the indicators when the signpost was set
    created_by   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    note         VARCHAR
);

-- Decisions stage: a signpost that fired (once), what moved, and the owner's notice.
CREATE TABLE signpost_firings (
    signpost_id  BIGINT PRIMARY KEY,
    decision_id  BIGINT NOT NULL,
    run_id       BIGINT,                     -- the radar run that fired it
    period_start DATE,
    fired_at     TIMESTAMP NOT NULL,
    value        DOUBLE NOT NULL,
    moved        VARCHAR NOT NULL,           -- what moved since the decision, in words
    message_id   VARCHAR                     -- alert_outbox.message_id; NULL = owner has no address
);

-- Decisions whose signposts fired after their last reassessment step.
CREATE VIEW reassessment_queue AS
SELECT f.decision_id, d.title, d.owner, d.owner_email, f.signpost_id, f.fired_at, f.moved,
       f.message_id, c.step AS current_step
FROM signpost_firings f
JOIN decisions d USING (decision_id)
JOIN decision_current c USING (decision_id)
WHERE NOT EXISTS (SELECT 1 FROM decision_steps s WHERE s.decision_id = f.decision_id
                  AND s.step = 'reassessment' AND s."at" >= f.fired_at);
