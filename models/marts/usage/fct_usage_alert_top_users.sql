{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
        pre_hook="{{ delete_reprocess_window() }}",
    )
}}

{#- the sparse window (macros/incremental/delete_reprocess_window.sql), computed once -#}
{%- set window_start = alert_window_start() -%}

{#- The top `usage_concentration_top_users` users of every usage alert (rank
    1 = pushed most in the direction of the change), for the concentration
    drill-down. Full lt_ids: the message truncates them. Sparse: the
    reprocess window is deleted first. -#}

with

user_deltas as (

    select * from {{ ref('int_usage__alert_user_deltas') }}
    where
        user_rank <= {{ var('usage_concentration_top_users') | int }}
    {% if is_incremental() %}
            and dt >= {{ window_start }}
        {% endif %}

),

final as (

    select
        {{ alert_id("'usage'", 'dt', 'segment', 'metric', "'usage_zscore'") }} as alert_id,
        dt,
        segment,
        metric,
        user_rank,
        lt_id,
        tier,
        value,
        baseline_mean,
        delta,
        share_of_change,
        is_new_user,
        first_seen_dt

    from user_deltas

)

select * from final
