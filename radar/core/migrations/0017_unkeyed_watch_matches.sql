-- lake: skip (DuckLake tables have no keys: nothing to drop)
-- Performance issue #17, as 0014 and 0015: `watch_matches` is now refreshed a few rows at a
-- time into a table that grows with the corpus, and DuckDB would write its key's index
-- anew at every refresh's checkpoint. (watch_id, passage_id) stays unique by the refresh,
-- which deletes a passage's matches before matching it again.
ALTER TABLE watch_matches RENAME TO watch_matches_keyed;
CREATE TABLE watch_matches (
    watch_id     BIGINT NOT NULL,            -- (watch_id, passage_id) unique (written by the refresh)
    passage_id   VARCHAR NOT NULL,
    similarity   DOUBLE,                     -- cosine to the watch item's embedding
    keyword      VARCHAR                     -- the keyword found, if any
);
INSERT INTO watch_matches BY NAME SELECT * FROM watch_matches_keyed;
DROP TABLE watch_matches_keyed;
