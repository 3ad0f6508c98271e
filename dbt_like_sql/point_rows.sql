-- The sampled rows of one decision point, its contract columns cast to their contract types.
-- A value that does not cast becomes NULL, so a condition needing it is "untestable" (a deviation).
SELECT decision_id, decision_point, decided_at, actor_type, actor_id, actor_version, reviewed_by, overridden, cost
{%- for column in columns %},
       {{ column.expression }} AS {{ column.name }}
{%- endfor %}
FROM sample
WHERE decision_point = $decision_point
