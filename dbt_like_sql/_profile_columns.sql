{#- The population profile's grouping and aggregates, shared by population_profile.sql and postgres/population_profile.sql
    (each adds its own way to fold the ids into the population fingerprint). #}
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
