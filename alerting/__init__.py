"""Alerting for ltx-monitoring: reads the alert marts and posts per team, exactly once.
The map of its modules: docs/alerting-and-delivery.md; the delivery guarantees: docs/delivery.md."""
