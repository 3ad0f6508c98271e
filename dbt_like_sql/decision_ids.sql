-- Decision ids per decision point over the cycle's window, pushed down: how many rows carry no decision_id, how many
-- ids are logged more than once and on how many rows, and the ten lowest of those ids (ids only, no row value).
-- Neither kind of row can be sampled: the sampling frame is the ids logged exactly once (sample_selection.sql).
WITH ids AS (
    SELECT decision_point, decision_id, count(*) AS n
    FROM decisions
    WHERE {{ window }}
    GROUP BY ALL
)
SELECT
    decision_point,
    coalesce(sum(n) FILTER (WHERE decision_id IS NULL), 0)                      AS null_ids,
    count(*) FILTER (WHERE decision_id IS NOT NULL AND n > 1)                   AS duplicated_ids,
    coalesce(sum(n) FILTER (WHERE decision_id IS NOT NULL AND n > 1), 0)        AS duplicated_rows,
    min_by(decision_id, decision_id, 10) FILTER (WHERE decision_id IS NOT NULL AND n > 1) AS examples
FROM ids
GROUP BY decision_point
HAVING null_ids > 0 OR duplicated_ids > 0
ORDER BY ALL
