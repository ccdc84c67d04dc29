"""Deterministic synthetic raw data for ltx-monitoring (DESIGN.md §3.2 shape)."""
