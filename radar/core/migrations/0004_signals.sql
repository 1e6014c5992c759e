-- Radar stage: emergence signals per run, topic and period, and analyst views.

CREATE SEQUENCE radar_run_seq START 1;

CREATE TABLE radar_runs (
    run_id         BIGINT PRIMARY KEY DEFAULT nextval('radar_run_seq'),
    "at"           TIMESTAMP NOT NULL DEFAULT current_timestamp,
    period         VARCHAR NOT NULL,          -- day | week | month | year
    period_start   DATE,                      -- the latest period scored
    model_version  VARCHAR,
    parameters     JSON,                      -- scoring settings and a fingerprint of the inputs
    topics         INTEGER,                   -- topics scored
    periods        INTEGER,                   -- periods replayed
    signals        INTEGER,                   -- signal rows written
    periods_stored INTEGER                    -- periods written: the latest and any whose radar changed
);

CREATE TABLE signals (
    run_id              BIGINT NOT NULL,
    period_start        DATE NOT NULL,
    topic_id            INTEGER NOT NULL,
    score               DOUBLE NOT NULL,       -- higher is more emergent
    stage               VARCHAR,               -- weak signal | emerging | established | fading
    ring                VARCHAR,               -- Act | Prepare | Watch | Monitor; NULL = off the radar
    volume              INTEGER NOT NULL,      -- passages in the period
    share               DOUBLE,
    growth              DOUBLE,
    acceleration        DOUBLE,
    burst               DOUBLE,                -- burst level/strength; 0 = no burst
    dov                 DOUBLE,                -- degree of visibility (Yoon 2012)
    dod                 DOUBLE,                -- degree of diffusion (Yoon 2012)
    quadrant            VARCHAR,               -- weak signal | strong signal | latent | well-known
    novelty             DOUBLE,
    sources             INTEGER,
    effective_sources   DOUBLE,
    news_share          DOUBLE,
    policy_share        DOUBLE,
    citizen_share       DOUBLE,
    authors             INTEGER,
    top_author_share    DOUBLE,
    narrow_voice        BOOLEAN,
    show_quotes         BOOLEAN,
    expectation_share   DOUBLE,
    expectation_growth  DOUBLE,
    expectation_gap     DOUBLE,
    gap_risk            BOOLEAN,
    previous_ring       VARCHAR,               -- ring in the previous run's radar
    movement            VARCHAR,               -- new | moved in | moved out | unchanged | left
    reasons             VARCHAR,               -- the ring and stage explained in words
    expected            DOUBLE,                -- passages expected at the baseline share
    surprise            DOUBLE,                -- Poisson z-score of volume against expected
    kem_frequency       DOUBLE,                -- KEM x axis: mean time-weighted DoD over the window
    kem_growth          DOUBLE,                -- KEM y axis: geometric-mean growth rate of DoD
    citizen_attention   DOUBLE,                -- topic's share of citizen passages (gap window)
    policy_attention    DOUBLE,                -- topic's share of policy passages (gap window)
    PRIMARY KEY (run_id, period_start, topic_id)
);

-- The latest run's radar for its latest period, with topic labels and areas.
CREATE VIEW radar_latest AS
SELECT s.*, t.label, t.top_terms, t.service_area, t.first_seen, t.size
FROM signals s
JOIN topics t USING (topic_id)
WHERE s.run_id = (SELECT max(run_id) FROM radar_runs)
  AND s.period_start = (
      SELECT period_start FROM radar_runs WHERE run_id = (SELECT max(run_id) FROM radar_runs)
  );

-- Expectation gap per service area: attention shares add up, so an area's gap
-- is the sum of its topics' gaps. One row per run, period and area.
CREATE VIEW area_gaps AS
SELECT s.run_id, s.period_start, t.service_area,
       sum(s.citizen_attention) AS citizen_attention,
       sum(s.policy_attention) AS policy_attention,
       sum(s.expectation_gap) AS expectation_gap,
       count(*) FILTER (WHERE s.gap_risk) AS topics_at_risk,
       list(t.label ORDER BY s.expectation_gap DESC) FILTER (WHERE s.gap_risk) AS risk_topics
FROM signals s
JOIN topics t USING (topic_id)
GROUP BY ALL;

-- Topic time series per period and channel, with labels.
CREATE VIEW topic_trends AS
SELECT tp.topic_id, t.label, t.service_area, tp.period_start, tp.channel, tp.passages,
       tp.documents, tp.sources, tp.authors, tp.expectation_passages
FROM topic_periods tp
JOIN topics t USING (topic_id);
