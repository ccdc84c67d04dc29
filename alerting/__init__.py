"""Alerting for ltx-monitoring: reads the alert marts and posts per team, exactly once.

The map (details: docs/alerting-and-delivery.md, docs/delivery.md):
  model.py         THE alert record (every fct_alerts column), incidents, severity order, headline
  warehouse.py     DuckDB / BigQuery reads with query parameters
  lifecycle.py     pure: today's alerts + the delivery log -> posts, repeats, summaries, corrections,
                   withdrawals, resolutions, charts
  runner.py        one run: read -> plan -> compose -> claim -> send -> record (a table of kinds)
  delivery_log.py  the destination-keyed log and claims that make runs exactly-once
  routing.py       team -> Slack channel / Linear team, [lifecycle] settings (channels.toml)
  message.py, compose.py, composer.py, values.py, causes.py, sanitize.py
                   platform-neutral message bodies and their wording
  render/          Block Kit (slack.py) and Markdown (markdown.py) renderers
  transport/       Slack, Linear, stdout (dry run); each declares its capabilities
  linear.py, issues.py   the Linear GraphQL client and the per-incident issue lifecycle
  serve.py, feedback.py, feedback_buttons.py   Slack buttons and the interactivity service
  charts.py, report/     the incident charts and the offline HTML report
  backtest.py, backtest_compare.py, cost_summary.py, pipeline_health.py, dates.py, redact.py, cli.py
"""
