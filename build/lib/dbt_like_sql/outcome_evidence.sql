-- Outcome Evidence of one decision point: each authored metric as one aggregate over its rows (of the window, or the
-- sample), and how many rows it rests on (the values of x for a metric avg(x), else every row).
WITH point_rows AS (
{{ point_rows }}
)
SELECT count(*) AS sample_size
{%- for metric in metrics %},
       CAST(({{ metric.sql }}) AS DOUBLE) AS {{ metric.column }},
       {{ metric.count_sql }} AS {{ metric.column }}_rows
{%- endfor %}
FROM point_rows
