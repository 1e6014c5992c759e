-- The radar's history holds the runs of the current period setting only: after
-- `[analysis] period` changes (month -> quarter, say), the runs scored in the old
-- periods no longer mix their period starts into the new history (two months
-- of one quarter would both show as that quarter). The current setting is the
-- newest run's period; the older runs stay in `signals` and `radar_runs`.

DROP VIEW radar_history;

CREATE VIEW radar_history AS
SELECT s.*, t.label, t.top_terms, t.service_area, t.first_seen, t.size
FROM signals s
JOIN (SELECT period_start, max(run_id) AS run_id FROM signals
      WHERE run_id IN (SELECT run_id FROM radar_runs
                       WHERE period = (SELECT period FROM radar_runs ORDER BY run_id DESC LIMIT 1))
      GROUP BY period_start) h
    USING (period_start, run_id)
JOIN topics t USING (topic_id);
