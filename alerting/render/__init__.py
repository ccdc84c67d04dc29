"""Renderers: a neutral MessageBody -> one platform's payload (Slack Block Kit, Markdown)."""
