"""The HTML report (`python -m alerting report`) and the per-incident charts for Slack.

Entry points for the rest of the package:
* `build_report(backend, day, cost_day)` -> HTML; `write_report(html, out_dir)` -> path;
* `incident_charts(backend, alerts)` -> {incident_id (or alert_id): Chart} with `.png`
  bytes and `.filename` for the Slack upload (one chart per incident, its primary alert);
* `chart_for(backend)` -> the runner's hook: incident -> (filename, PNG bytes) or None;
* `report_url(day)` -> the report's public URL when LTX_REPORT_BASE_URL is set, else None.
"""

from alerting.report.build import build_report, chart_for, incident_charts, write_report
from alerting.report.link import BASE_URL_ENV, ReportUrlError, report_url

__all__ = [
    "BASE_URL_ENV",
    "ReportUrlError",
    "build_report",
    "chart_for",
    "incident_charts",
    "report_url",
    "write_report",
]
