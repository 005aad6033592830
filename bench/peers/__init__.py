"""The bonus ledger consumer and what a Python team would otherwise use (FastStream), each run
in a process of its own by the comparison in bench/lib/peers.py."""
