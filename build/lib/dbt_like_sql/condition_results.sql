-- DCT conformance, per sampled decision and condition: pass, fail, not_applicable, or untestable
-- (the condition's inputs are missing, which ISA 530 counts as a deviation).
WITH point_rows AS (
{{ point_rows }}
)
SELECT decision_id
{%- for condition in conditions %},
       CASE WHEN ({{ condition.when }}) IS NULL THEN 'untestable'
            WHEN NOT ({{ condition.when }}) THEN 'not_applicable'
            WHEN ({{ condition.require }}) IS NULL THEN 'untestable'
            WHEN ({{ condition.require }}) THEN 'pass'
            ELSE 'fail' END AS {{ condition.column }}
{%- endfor %}
FROM point_rows
ORDER BY decision_id
