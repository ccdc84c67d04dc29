"""python -m alerting run [--date YYYY-MM-DD] [--target duckdb|bigquery] [--dry-run]"""

import sys

from alerting.cli import main

sys.exit(main())
