{#- THE calibrated p-value of a usage z under the t null (issue 21): with n
    baseline points the out-of-sample z (value - mean) / sample sigma of an
    ordinary day is sqrt(1 + 1/n) x t(n - 1); the day must also be surprising
    against the same-weekday linear trend through the same points
    (int_usage__baselines.trend_prediction / trend_stddev, t on n - 2 d.f.),
    so the p-value is the larger of the two (a missing trend: the level test
    alone). Used once: int_alerts__usage_null_p_values (every series-day's p:
    the empirical null's reference, and the alert's p int_alerts__loudness
    reads). -#}
{% macro usage_t_p_value(z_score, points, current_value, trend_prediction, trend_stddev) -%}
{%- set max_df = (var('baseline_weeks') | int) - 1 -%}
{%- set level = student_t_p_value(
    'abs(' ~ z_score ~ ') / sqrt(1 + 1.0 / ' ~ points ~ ')', points ~ ' - 1', max_df
) -%}
{%- set trend = student_t_p_value(
    safe_divide('abs(' ~ current_value ~ ' - ' ~ trend_prediction ~ ')', trend_stddev), points ~ ' - 2', max_df
) -%}
case when ({{ trend }}) > ({{ level }}) then ({{ trend }}) else ({{ level }}) end
{%- endmacro %}
