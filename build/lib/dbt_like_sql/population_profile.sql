-- Population profile: the one pushed-down aggregate scan of the decision log over the cycle's window.
-- One row per (decision point, actor, version): counts, cost and override aggregates. No row values
-- (the cost totals are kept per decision point only, see population.point_cost_totals).
-- id_xor and id_sum fold the 64-bit md5_number_lower of every decision id: an order-independent
-- population fingerprint that a re-performer can recompute with any md5 (bytes 8-15, little-endian).
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
    bit_xor(md5_number_lower(decision_id))    AS id_xor,
    sum(md5_number_lower(decision_id)::HUGEINT) AS id_sum
FROM decisions
WHERE {{ window }}
GROUP BY ALL
ORDER BY ALL
