-- Warns (does not fail) when a day inside the loaded range has no raw usage
-- rows at all: it is zero-filled and will look like a collapse in every segment.
{{ config(severity='warn') }}

select distinct dt
from {{ ref('int_usage__segment_days') }}
where raw_rows_on_day = 0
