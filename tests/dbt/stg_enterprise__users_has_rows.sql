-- Fails when the raw enterprise membership table (enterprise_users) has no rows at all:
-- nothing to monitor. Most often LTX_RAW_DIR (DuckDB) or the source dataset vars
-- (BigQuery) point at the wrong place. Reads the whole table, also on daily runs.
{{ no_rows_in(ref('stg_enterprise__users')) }}
