-- Sample selection: within each decision point (stratum), rank decisions by a keyed hash
-- sha256(seed || ':' || decision_id) and keep the lowest n. Equal-probability, independent of row order
-- and engine; min_by(row, key, n) keeps at most n rows per stratum in memory, whatever the log's size.
CREATE TABLE sample AS
WITH lowest AS (
    SELECT d.decision_point AS stratum,
           min_by(d, sha256($seed || ':' || d.decision_id), $max_n) AS picked
    FROM decisions AS d
    WHERE {{ window }} AND d.decision_point IN (SELECT decision_point FROM sampling_plan)
    GROUP BY d.decision_point
), selected AS (
    SELECT unnest(list_slice(l.picked, 1, p.sample_size)) AS row
    FROM lowest AS l JOIN sampling_plan AS p ON p.decision_point = l.stratum
)
SELECT unnest(row),
       sha256($seed || ':' || row.decision_id) AS __selection_key
FROM selected
