-- The radar's history: movement is computed per period (against the period
-- before), so every period of an archive analysed in one run has its history.

COMMENT ON COLUMN signals.previous_ring IS
    'ring in the previous period''s radar (NULL: not on it)';
COMMENT ON COLUMN signals.movement IS
    'against the previous period: new (first time on the radar) | back (returns after leaving) | moved in | moved out | unchanged | left';

-- Every period's radar as it stands now: each period's rows from the newest
-- complete run that stored it, with topic labels and areas. One row per period
-- and topic on the radar, plus a row (ring NULL, movement 'left') for a topic
-- that left it that period.
CREATE VIEW radar_history AS
SELECT s.*, t.label, t.top_terms, t.service_area, t.first_seen, t.size
FROM signals s
JOIN (SELECT period_start, max(run_id) AS run_id FROM signals
      WHERE run_id IN (SELECT run_id FROM radar_runs) GROUP BY period_start) h
    USING (period_start, run_id)
JOIN topics t USING (topic_id);
