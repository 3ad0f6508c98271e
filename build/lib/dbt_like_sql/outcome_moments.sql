-- The spread of one Outcome Evidence metric avg(x) over the sampled rows of its decision point: what its
-- confidence interval needs (values, mean, SD, third central moment, and whether x is a 0/1 share).
WITH point_rows AS (
{{ point_rows }}
),
point_values AS (
    SELECT CAST(({{ value }}) AS DOUBLE) AS x FROM point_rows
),
centre AS (
    SELECT avg(x) AS mean FROM point_values
)
SELECT (SELECT count(*) FROM point_rows) AS sample_size,
       count(x) AS n,
       any_value(mean) AS mean,
       stddev_samp(x) AS sd,
       avg(power(x - mean, 3)) AS m3,
       count(x) FILTER (WHERE x NOT IN (0, 1)) AS non_binary,
       sum(x) AS total
FROM point_values, centre
