-- Fails when the raw enterprise membership table (enterprise_users) has no rows at all:
-- nothing to monitor. Most often LTX_RAW_DIR (DuckDB) or the source dataset vars
-- (BigQuery) point at the wrong place. Stops at the first row found (no_rows_in: LIMIT 1).
{{ no_rows_in(ref('stg_enterprise__users')) }}
