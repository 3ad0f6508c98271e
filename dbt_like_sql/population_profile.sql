-- Population profile: the one pushed-down aggregate scan of the decision log over the cycle's window.
-- One row per (decision point, actor, version): counts, cost and override aggregates. No row values.
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
    max(decided_at)                           AS last_at
FROM decisions
WHERE {{ window }}
GROUP BY ALL
ORDER BY ALL
