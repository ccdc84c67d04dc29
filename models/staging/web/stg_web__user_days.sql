{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['lt_id'],
    )
}}

{#- An incremental table, not a view: the one model that reads the raw usage
    table, and each daily run reads only the days it rebuilds (incremental_start_date:
    the reprocess window). Every other model and test reads this table, so the raw
    history is never re-read in a morning (docs/data-inputs.md "Landed once"). -#}
{#- Bounds of the per-user-day counts (macro user_day_bound, vars in dbt_project.yml). -#}
{%- set metrics = [
    ('num_tokens_consumed', 'tokens_consumed', user_day_bound('max_user_day_tokens')),
    ('num_generate_image', 'image_generations', user_day_bound('max_user_day_generations')),
    ('num_generate_video', 'video_generations', user_day_bound('max_user_day_generations')),
] -%}

{%- set raw_dt = utc_date('dt', source('web', 'ltxstudio_agg_user_date')) %}

with

source as (

    select * from {{ source('web', 'ltxstudio_agg_user_date') }}
    -- stray dates quarantined; a daily run: only the reprocess window (partition pruning)
    where {{ rows_to_land(raw_dt) }}

),

renamed as (

    select
        {{ raw_dt }} as dt,
        cast(lt_id as {{ dbt.type_string() }}) as lt_id,
        cast(griffin_tier_name as {{ dbt.type_string() }}) as tier_name,
        {%- for raw_column, name, _ in metrics %}
            {{ raw_column }},
            cast({{ raw_column }} as {{ type_double() }}) as raw_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from source

),

bounded as (

    select
        dt,
        lt_id,
        tier_name,
        {%- for raw_column, name, bound in metrics %}
            case
                when raw_{{ name }} between 0 and {{ bound }}
                    then {{ try_cast(raw_column, dbt.type_bigint()) }}
            end as {{ name }},
        {%- endfor %}
        {%- for raw_column, name, bound in metrics %}
            raw_{{ name }},
        {%- endfor %}
        {%- for raw_column, name, bound in metrics %}
            coalesce(raw_{{ name }} between 0 and {{ bound }}, true){% if not loop.last %} and{% endif %}
        {%- endfor %} as is_within_bounds

    from renamed

)

select * from bounded
