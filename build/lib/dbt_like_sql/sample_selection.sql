-- Sample selection: within each decision point (stratum), rank decisions by a keyed hash
-- sha256(seed || ':' || decision_id) and keep the lowest n. Equal-probability, independent of row order
-- and engine. Two passes, so that only the selected rows are ever read whole: the first ranks ids alone
-- (min_by keeps at most `fetched` ids per stratum in memory, whatever the log's size), the second reads the
-- rows of the chosen ids.
-- The frame is the decisions whose id is logged once: no row without an id, no row of an id logged twice or more.
-- All rows of an id share its key, so they rank side by side: a point whose ids are logged more than once on d rows
-- fetches its lowest n + d rows' ids and sets aside every id listed twice. At least n ids logged once remain ahead
-- of any id cut off after its first row, so the lowest n that remain are the lowest n of the frame.
CREATE TABLE sample AS
WITH lowest AS (
    SELECT d.decision_point AS stratum,
           min_by(d.decision_id, sha256($seed || ':' || d.decision_id), $max_fetched) AS ids
    FROM decisions AS d
    WHERE {{ window }} AND d.decision_id IS NOT NULL AND d.decision_point IN (SELECT decision_point FROM sampling_plan)
    GROUP BY d.decision_point
), listed AS (
    SELECT l.stratum, p.sample_size,
           unnest(list_slice(l.ids, 1, p.fetched)) AS decision_id,
           generate_subscripts(list_slice(l.ids, 1, p.fetched), 1) AS rank
    FROM lowest AS l JOIN sampling_plan AS p ON p.decision_point = l.stratum
), framed AS (
    SELECT stratum, decision_id, min(rank) AS rank, any_value(sample_size) AS sample_size
    FROM listed
    GROUP BY stratum, decision_id
    HAVING count(*) = 1
), chosen AS (
    SELECT stratum, decision_id
    FROM framed
    QUALIFY row_number() OVER (PARTITION BY stratum ORDER BY rank) <= sample_size
)
SELECT d.*, sha256($seed || ':' || d.decision_id) AS __selection_key
FROM decisions AS d
SEMI JOIN chosen AS c ON c.stratum = d.decision_point AND c.decision_id = d.decision_id
WHERE {{ window }}
