"""python -m alerting run [--date YYYY-MM-DD] [--target duckdb|bigquery] [--dry-run]"""

from alerting.cli import main

raise SystemExit(main())
