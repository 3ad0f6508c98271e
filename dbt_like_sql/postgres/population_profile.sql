-- population_profile.sql in PostgreSQL: the same one aggregate scan, run by the server over the normalized table.
-- id_hash is DuckDB's md5_number_lower(decision_id): bytes 8-15 of the md5, little-endian, as a signed bigint here
-- (the caller reads id_xor as unsigned); id_sum adds them as unsigned numbers, so the population fingerprint is
-- the one a file of the same decisions gives.
WITH d AS (
{{ relation }}
), hashed AS (
    SELECT decision_point, actor_type, actor_id, actor_version, cost, overridden, decided_at,
           CAST(CAST('x' || substr(m, 31, 2) || substr(m, 29, 2) || substr(m, 27, 2) || substr(m, 25, 2)
                          || substr(m, 23, 2) || substr(m, 21, 2) || substr(m, 19, 2) || substr(m, 17, 2) AS bit(64)) AS bigint) AS id_hash
    FROM (SELECT *, md5(decision_id) AS m FROM d WHERE {{ window }}) AS w
)
SELECT
    decision_point,
    actor_type,
    actor_id,
    actor_version,
    count(*)                                  AS decisions,
    count(cost)                               AS costed,
    coalesce(sum(cost), 0)                    AS cost_total,
    count(overridden)                         AS override_known,
    count(*) FILTER (WHERE overridden)        AS overrides,
    min(decided_at)                           AS first_at,
    max(decided_at)                           AS last_at,
    bit_xor(id_hash)                          AS id_xor,
    sum(CAST(id_hash AS numeric) + CASE WHEN id_hash < 0 THEN 18446744073709551616 ELSE 0 END) AS id_sum
FROM hashed
GROUP BY 1, 2, 3, 4
ORDER BY decision_point COLLATE "C", actor_type COLLATE "C", actor_id COLLATE "C", actor_version COLLATE "C"
