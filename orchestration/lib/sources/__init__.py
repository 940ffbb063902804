"""Parsers for SBP's own release files. Each maps a file into SourceFigures (base.py)."""
