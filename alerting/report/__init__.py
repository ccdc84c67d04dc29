"""The HTML report (`python -m alerting report`), the per-incident charts for Slack and the report's URL."""

from alerting.report.build import build_report, chart_for, incident_charts
from alerting.report.command import ReportUrlError, report_url

__all__ = ["ReportUrlError", "build_report", "chart_for", "incident_charts", "report_url"]
