"""Slack alerting for ltx-monitoring: reads fct_alerts and posts per team, exactly once."""
