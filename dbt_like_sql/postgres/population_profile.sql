-- population_profile.sql in PostgreSQL: the same one aggregate scan, run by the server over the normalized table.
-- The population fingerprint folds each decision id's md5_number_lower (DuckDB's: bytes 8-15 of its md5, read
-- little-endian). Assembling that number in SQL is slow in PostgreSQL, so the server returns what the caller
-- assembles it from: per byte 8-15, the XOR and the sum of that byte over the group (the XOR of the numbers is the
-- bytes' XORs side by side; their sum is the sum over k of 256^k times byte 8+k's sum). The md5 is taken once per
-- row, in a lateral unnest: an expression of a subquery's column would be copied into each aggregate that reads it.
WITH d AS (
{{ relation }}
), hashed AS (
    SELECT decision_point, actor_type, actor_id, actor_version, cost, overridden, decided_at, b
    FROM d CROSS JOIN LATERAL unnest(ARRAY[decode(md5(d.decision_id), 'hex')]) AS h(b)
    WHERE {{ window }}
)
SELECT
{% include '_profile_columns.sql' %}    0 AS id_fingerprint_parts_follow
{%- for byte in range(8, 16) %},
    bit_xor(get_byte(b, {{ byte }}))          AS id_byte_{{ byte }}_xor,
    sum(get_byte(b, {{ byte }}))              AS id_byte_{{ byte }}_sum
{%- endfor %}
FROM hashed
GROUP BY 1, 2, 3, 4
ORDER BY decision_point COLLATE "C", actor_type COLLATE "C", actor_id COLLATE "C", actor_version COLLATE "C"
