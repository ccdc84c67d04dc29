"""BigQuery path checked locally: emulator lifecycle, raw loader, engine comparison, dialect/config checks."""
