-- sample_selection.sql in PostgreSQL: within each decision point, the decisions lowest by the keyed hash
-- sha256(seed || ':' || decision_id), the same ranking DuckDB applies to a file (bytea sorts as its hex does).
-- Each point's n rows come from a top-n sort (bounded memory); only they leave the server.
-- The frame is the decisions whose id is logged once: no row without an id, no row of an id logged twice or more.
WITH d AS (
{{ relation }}
), {% if exclude_duplicates %}duplicated AS (
    SELECT decision_point, decision_id
    FROM d
    WHERE {{ window }} AND decision_id IS NOT NULL AND decision_point = ANY(%(points)s)
    GROUP BY 1, 2
    HAVING count(*) > 1
), {% endif %}framed AS (
    SELECT *
    FROM d
    WHERE {{ window }} AND decision_id IS NOT NULL AND decision_point = ANY(%(points)s)
    {% if exclude_duplicates %}AND NOT EXISTS (SELECT 1 FROM duplicated AS x WHERE x.decision_point = d.decision_point AND x.decision_id = d.decision_id)
    {% endif %}
)
SELECT picked.*, encode(sha256(convert_to(%(seed)s || ':' || picked.decision_id, 'UTF8')), 'hex') AS __selection_key
FROM unnest(CAST(%(points)s AS text[]), CAST(%(sizes)s AS int[])) AS plan(point, n)
CROSS JOIN LATERAL (
    SELECT * FROM framed AS f
    WHERE f.decision_point = plan.point
    ORDER BY sha256(convert_to(%(seed)s || ':' || f.decision_id, 'UTF8'))
    LIMIT plan.n
) AS picked
