-- day_of_week() must give BigQuery's numbering (1 = Sunday ... 7 = Saturday) and
-- week_start() the ISO Monday on every engine. 2026-11-22 is a Sunday.
-- Runs on DuckDB and on the BigQuery emulator.
{{ config(severity='error') }}

with

known_days as (

    {% for offset in range(7) %}
        select
            cast({{ dbt.dateadd('day', offset, "cast('2026-11-22' as date)") }} as date) as known_day,
            {{ offset + 1 }} as expected_day_of_week
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

computed as (

    select
        known_day,
        expected_day_of_week,
        {{ day_of_week('known_day') }} as actual_day_of_week,
        {{ week_start('known_day') }} as actual_week_start

    from known_days

)

select *
from computed
where
    actual_day_of_week != expected_day_of_week
    or actual_week_start != case
        when expected_day_of_week = 1 then cast('2026-11-16' as date)
        else cast('2026-11-23' as date)
    end
