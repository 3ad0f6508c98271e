-- Sample selection: within each decision point (stratum), rank decisions by a keyed hash
-- sha256(seed || ':' || decision_id) and keep the lowest n. Equal-probability, independent of row order
-- and engine; min_by(row, key, n) keeps at most n rows per stratum in memory, whatever the log's size.
-- The frame is the decisions whose id is logged once: no row without an id, no row of an id logged twice or more.
CREATE TABLE sample AS
WITH {% if exclude_duplicates %}duplicated AS (
    SELECT decision_point, decision_id
    FROM decisions
    WHERE {{ window }} AND decision_id IS NOT NULL AND decision_point IN (SELECT decision_point FROM sampling_plan)
    GROUP BY ALL
    HAVING count(*) > 1
), {% endif %}lowest AS (
    SELECT d.decision_point AS stratum,
           min_by(d, sha256($seed || ':' || d.decision_id), $max_n) AS picked
    FROM decisions AS d
    {% if exclude_duplicates %}ANTI JOIN duplicated AS x ON x.decision_point = d.decision_point AND x.decision_id = d.decision_id
    {% endif %}WHERE {{ window }} AND d.decision_id IS NOT NULL AND d.decision_point IN (SELECT decision_point FROM sampling_plan)
    GROUP BY d.decision_point
), selected AS (
    SELECT unnest(list_slice(l.picked, 1, p.sample_size)) AS row
    FROM lowest AS l JOIN sampling_plan AS p ON p.decision_point = l.stratum
)
SELECT unnest(row),
       sha256($seed || ':' || row.decision_id) AS __selection_key
FROM selected
