"""Parsers of release files, one per layout: the record's own CSV (record_csv.py) and SBP's files,
each mapped into SourceFigures (base.py); detect.py tells the layouts apart."""
