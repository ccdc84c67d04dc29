"""Transports: where a rendered message goes (`base.py`: the protocols and results). A second
platform is a renderer plus a transport."""
