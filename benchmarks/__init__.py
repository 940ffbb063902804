"""Benchmarks of the itx warehouse: a synthetic record grown along the vintage axis (generate_record),
the runner behind `make bench` (run) and a plain-DuckDB floor on the same data (floor)."""
