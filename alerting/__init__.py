"""Slack alerting for ltx-monitoring: reads fct_alerts and posts per team, exactly once.

Modules (one job each):
  model.py         Alert / Driver / Digest / Message dataclasses (platform-neutral)
  mrkdwn.py        escaping of data strings for Slack mrkdwn, safe truncation
  formatting.py    Block Kit + plain-text digests grouped CRITICAL / WARNING / NOTICE (pure)
  routing.py       team -> channel from channels.toml (+ env overrides)
  planning.py      which alerts go where today (pure)
  warehouse.py     DuckDB / BigQuery access with query parameters; reads alerts and drivers
  delivery_log.py  the (alert_id, channel) delivery log that makes runs exactly-once
  transport.py     slack_sdk chat.postMessage with 429 / connection retry handlers
  redact.py        keeps the token out of text and log records
  runner.py        one run: read -> plan -> format -> post -> record
  cli.py           `python -m alerting run ...`
"""
