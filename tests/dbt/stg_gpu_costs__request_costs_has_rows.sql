-- Fails when the raw GPU cost table (gpu_request_attribution_and_cost) has no rows at all:
-- nothing to monitor. Most often LTX_RAW_DIR (DuckDB) or the source dataset vars
-- (BigQuery) point at the wrong place. Stops at the first row found (no_rows_in: LIMIT 1).
{{ no_rows_in(ref('stg_gpu_costs__request_costs'), date_column='dt') }}
