-- Decision ids per decision point over the cycle's window, pushed down: how many rows carry no decision_id, how many
-- ids are logged more than once and on how many rows, and the ten lowest of those ids (ids only, no row value).
-- Neither kind of row can be sampled: the sampling frame is the ids logged exactly once (sample_selection.sql).
-- The second pass after decision_id_hashes.sql: the ids of the hashes found on more than one row, counted exactly
-- (two different ids that share a hash are told apart here), and the rows without an id counted per point; without
-- either, the log is not read again.
WITH {% if shared_hashes %}ids AS (
    SELECT decision_point, decision_id, count(*) AS n
    FROM decisions
    WHERE {{ window }} AND decision_id IS NOT NULL
      AND hash(decision_point, decision_id) IN (SELECT h FROM decision_id_hashes WHERE NOT missing)
    GROUP BY ALL
    HAVING count(*) > 1
), {% else %}ids AS (
    SELECT CAST(NULL AS VARCHAR) AS decision_point, CAST(NULL AS VARCHAR) AS decision_id, 0 AS n
    WHERE FALSE
), {% endif %}missing AS ({% if missing_ids %}
    SELECT decision_point, count(*) AS null_ids
    FROM decisions
    WHERE {{ window }} AND decision_id IS NULL
    GROUP BY ALL{% else %}
    SELECT CAST(NULL AS VARCHAR) AS decision_point, 0 AS null_ids
    WHERE FALSE{% endif %}
), duplicated AS (
    SELECT decision_point, count(*) AS duplicated_ids, sum(n) AS duplicated_rows, min_by(decision_id, decision_id, 10) AS examples
    FROM ids
    GROUP BY ALL
)
SELECT decision_point, coalesce(null_ids, 0) AS null_ids, coalesce(duplicated_ids, 0) AS duplicated_ids,
       coalesce(duplicated_rows, 0) AS duplicated_rows, examples
FROM missing FULL JOIN duplicated USING (decision_point)
ORDER BY ALL
