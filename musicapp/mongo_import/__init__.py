"""The move from MongoDB: `manage.py import_mongo` (docs/IMPORT.md).

dump.py reads a dump a document at a time; values.py and specs.py turn each document into
rows; engine.py writes them in batches and remembers what it did; verify.py checks the result.
"""
