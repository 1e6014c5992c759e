-- The new theme a weak signal stands for (scoring: radar.scoring.score), so the radar
-- names it and not only the topic holding it: "reverse, emphasis · weak signal: tsunami".
ALTER TABLE signals ADD COLUMN theme VARCHAR;
