-- The first pass of decision_ids.sql: the window's rows grouped by DuckDB's 64-bit hash of (point, id), keeping the
-- hashes found on more than one row and the rows without an id, so memory holds numbers, not ids (a 100M-decision
-- log: 4x faster than grouping the ids themselves, and half the memory). The point is in the hash, not in the key
-- (a string in the key doubles the time: 7.7 against 3.6 s over 45M ids); rows without an id are named by point in
-- a pass of their own. Only numbers and counts: no id, no value. Where the grouping does not fit in the workspace's
-- memory, it runs as `parts` scans, each over the (point, id) pairs whose hash is `part` modulo `parts`: a pair's
-- rows all fall in one part, so the parts together keep what one scan keeps.
{% if part == 0 %}CREATE OR REPLACE TEMP TABLE decision_id_hashes AS{% else %}INSERT INTO decision_id_hashes{% endif %}
SELECT decision_id IS NULL AS missing, hash(decision_point, decision_id) AS h, count(*) AS n
FROM decisions
WHERE {{ window }}{% if parts > 1 %} AND hash(decision_point, decision_id) % {{ parts }} = {{ part }}{% endif %}
GROUP BY ALL
HAVING count(*) > 1 OR missing
