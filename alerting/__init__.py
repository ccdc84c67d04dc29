"""Alerting for ltx-monitoring: reads the alert marts and posts per team, exactly once.

Layers (see docs/alerting-and-delivery.md):
  model.py         Alert (every fct_alerts column) / Driver / CostComponent / Incident /
                   DeliveryState / Digest; ALERT_COLUMNS derived from Alert
  values.py        THE value formatter; labels by baseline_kind, thresholds by threshold_kind
  sanitize.py      data strings made one short inert line; Slack escaping
  message.py       neutral blocks (Header, Text, Fields, Table, Divider, Context, Section)
  compose.py       incidents / digests / lifecycle notices -> MessageBody (pure)
  render/          slack.py (Block Kit + fallback within Slack's limits), text.py
  routing.py       team -> channel from channels.toml (+ env overrides)
  release.py       the held incomplete-data alerts `release --date D` posts
  backtest.py      what each posting policy would have posted
  warehouse.py     DuckDB / BigQuery access with query parameters; reads alerts and drivers
  delivery_log.py  the destination-keyed delivery log (+ claims) that makes runs exactly-once
  lifecycle.py     pure: today's alerts + the log -> new posts, thread repeats, corrections,
                   withdrawals, resolved notices, chart uploads (docs/delivery.md)
  composer.py      the Composer the runner speaks to: lifecycle actions -> compose -> render
  transport/       slack.py (chat.postMessage with threads, files_upload_v2), stdout.py (dry run)
  redact.py        token validation; the token and its fragments kept out of text and logs
  runner.py        one run: read -> lifecycle plan -> compose -> claim -> post -> record
  charts.py        one Vega-Lite chart per incident (PNG for Slack, SVG for the report)
  report/          the offline HTML report
  cost_summary.py  the finalised cost day's summary (`python -m alerting.cost_summary`)
  cli.py           `python -m alerting run | release | backtest | report`
  dates.py         the --date argument and the finalised cost day (D + 1 - cost_finalisation_days)
"""
