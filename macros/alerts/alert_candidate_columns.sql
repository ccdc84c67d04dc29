{#- The columns every alert candidate model (int_alerts__*_candidates) provides,
    in order: the policy unions them by name, never with `select *`. -#}
{% macro alert_candidate_columns() %}{{ return([
    'alert_id', 'alert_date', 'domain', 'team', 'scope', 'metric', 'rule', 'primary_order',
    'threshold_kind', 'baseline_kind', 'unit', 'current_value', 'baseline_mean', 'baseline_stddev',
    'baseline_stddev_kind',     'baseline_points', 'z_score', 'robust_z_score', 'pct_change', 'threshold', 'severity', 'direction',
    'is_suppressed', 'suppression_reason', 'is_baseline_valid', 'has_insufficient_baseline',
    'is_low_variance', 'has_baseline_outlier', 'baseline_outlier_date', 'drivers_summary',
    'recommended_action', 'cause',
]) }}{% endmacro %}
