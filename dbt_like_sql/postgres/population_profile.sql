-- population_profile.sql in PostgreSQL: the same one aggregate scan, run by the server over the normalized table.
-- The population fingerprint folds each decision id's md5_number_lower (DuckDB's: bytes 8-15 of its md5, read
-- little-endian). Byte-swapping in SQL is slow in PostgreSQL, so the server returns what the caller assembles it
-- from: the XOR of bytes 8-15 read big-endian (XOR commutes with the swap) and the sum of each of those bytes, the
-- little-endian sum being the sum over k of 256^k times byte 8+k's sum.
WITH d AS (
{{ relation }}
), hashed AS (
    SELECT decision_point, actor_type, actor_id, actor_version, cost, overridden, decided_at, m, decode(m, 'hex') AS b
    FROM (SELECT *, md5(decision_id) AS m FROM d WHERE {{ window }}) AS w
)
SELECT
{% include '_profile_columns.sql' %}    bit_xor(CAST(CAST('x' || substr(m, 17, 16) AS bit(64)) AS bigint)) AS id_xor_big_endian
{%- for byte in range(8, 16) %},
    sum(get_byte(b, {{ byte }}))              AS id_byte_{{ byte }}_sum
{%- endfor %}
FROM hashed
GROUP BY 1, 2, 3, 4
ORDER BY decision_point COLLATE "C", actor_type COLLATE "C", actor_id COLLATE "C", actor_version COLLATE "C"
