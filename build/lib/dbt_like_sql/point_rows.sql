-- The rows of one decision point (the sample, or a window of the log), its contract columns cast to their contract types.
-- A value that does not cast becomes NULL, so a condition needing it is "untestable" (a deviation).
SELECT decision_id, decision_point, decided_at, actor_type, actor_id, actor_version, reviewed_by, overridden, cost
{%- for column in columns %},
       {{ column.expression }} AS {{ column.name }}
{%- endfor %}
FROM {{ relation }}
WHERE decision_point = $decision_point
