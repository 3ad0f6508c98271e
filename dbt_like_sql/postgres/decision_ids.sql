-- decision_ids.sql in PostgreSQL: per decision point, rows without an id, ids logged more than once and on how many
-- rows, and the ten lowest of those ids (byte order, as DuckDB sorts them). Where a unique index of the table holds
-- each id once (`unique`, see PostgresTable.unique_id_index), only the rows without an id are counted: no id is
-- grouped.
WITH d AS (
{{ relation }}
), ids AS (
    SELECT decision_point, decision_id, count(*) AS n
    FROM d
    WHERE {{ window }}{% if unique %} AND decision_id IS NULL{% endif %}
    GROUP BY 1, 2
), counted AS (
    SELECT
        decision_point,
        coalesce(sum(n) FILTER (WHERE decision_id IS NULL), 0)               AS null_ids,
        count(*) FILTER (WHERE decision_id IS NOT NULL AND n > 1)            AS duplicated_ids,
        coalesce(sum(n) FILTER (WHERE decision_id IS NOT NULL AND n > 1), 0) AS duplicated_rows,
        (array_agg(decision_id ORDER BY decision_id COLLATE "C") FILTER (WHERE decision_id IS NOT NULL AND n > 1))[1:10] AS examples
    FROM ids
    GROUP BY decision_point
)
SELECT * FROM counted
WHERE null_ids > 0 OR duplicated_ids > 0
ORDER BY decision_point COLLATE "C"
