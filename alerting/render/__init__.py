"""Renderers: a neutral MessageBody -> one platform's payload (Slack Block Kit, plain text).

A second platform is a renderer here plus a transport in `alerting/transport/`.
"""
