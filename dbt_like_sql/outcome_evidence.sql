-- Outcome Evidence of one decision point: each authored metric as one aggregate over its rows (of the window, or the sample).
WITH point_rows AS (
{{ point_rows }}
)
SELECT count(*) AS sample_size
{%- for metric in metrics %},
       CAST(({{ metric.sql }}) AS DOUBLE) AS {{ metric.column }}
{%- endfor %}
FROM point_rows
