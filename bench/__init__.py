"""`make bench`: full refresh vs daily incremental vs the raw-scan floor vs a one-query reference."""
