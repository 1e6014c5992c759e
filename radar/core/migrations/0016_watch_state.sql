-- Decisions stage: what each watch item's matches were last made with and against, so that
-- a refresh matches only the passages written since (performance issue #17: every analyze
-- matched every passage against every item, 0.5 s an item at 100,000 passages).
CREATE TABLE watch_state (
    watch_id         BIGINT PRIMARY KEY,
    signature        VARCHAR NOT NULL,   -- keywords, threshold, vector and model the matches were made with
    matched_through  TIMESTAMP           -- passages created up to this time were matched (NULL: none yet)
);
