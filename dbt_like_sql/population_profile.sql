-- Population profile: the one pushed-down aggregate scan of the decision log over the cycle's window.
-- One row per (decision point, actor, version): counts, cost and override aggregates. No row values
-- (the cost totals are kept per decision point only, see population.point_cost_totals).
-- id_xor and id_sum fold the 64-bit md5_number_lower of every decision id (md5_lower computes it): an order-independent
-- population fingerprint that a re-performer can recompute with any md5 (bytes 8-15, little-endian).
SELECT
{% include '_profile_columns.sql' %}    bit_xor({{ md5_lower('decision_id') }})    AS id_xor,
    sum(CAST({{ md5_lower('decision_id') }} AS HUGEINT)) AS id_sum
FROM decisions
WHERE {{ window }}
GROUP BY ALL
ORDER BY ALL
