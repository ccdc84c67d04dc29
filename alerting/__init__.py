"""Slack alerting for ltx-monitoring: reads fct_alerts and posts per team, exactly once.

Modules (one job each):
  model.py         Alert / Driver / Digest / Message dataclasses (platform-neutral)
  mrkdwn.py        escaping of data strings for Slack mrkdwn, safe truncation
  formatting.py    Block Kit + plain-text digests grouped CRITICAL / WARNING / NOTICE (pure)
  routing.py       team -> channel from channels.toml (+ env overrides)
  planning.py      which alerts go where today (pure)
  warehouse.py     DuckDB / BigQuery access with query parameters; reads alerts and drivers
  delivery_log.py  the destination-keyed delivery log (+ claims) that makes runs exactly-once
  lifecycle.py     pure: today's alerts + the log -> new posts, thread repeats, corrections,
                   withdrawals, resolved notices, chart uploads (docs/delivery.md)
  delivery_text.py thin adapter: the words of repeats / corrections / ... (until compose.py)
  transport/       slack.py (chat.postMessage with threads, files_upload_v2), stdout.py (dry run)
  redact.py        keeps the token out of text and log records
  runner.py        one run: read -> lifecycle plan -> compose -> claim -> post -> record
  cli.py           `python -m alerting run ...`
"""
