"""The bonus ledger consumer against what a Python team would otherwise use (FastStream) and
against the raw limits of the client and the database (bench/peers/compare.py)."""
