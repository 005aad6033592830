"""The platform's benchmarks: `make bench` (`python -m bench`) measures the business problems
the event-driven form was built to fix, `before` (the old wiring) against `after`, and writes
docs/benchmarks.md with its tables and charts; `make bench-speed` (`python -m bench.speed`)
measures the platform on one machine at its rated load and writes docs/speed.md;
`make bench-distributed` (`python -m bench.distributed`) takes the money pipeline apart on
Kafka and PostgreSQL, stage by stage.

Scripts: `run` (with `__main__`), `speed`, `distributed`, `wiring_smoke`, and `peers/` (the
ledger consumers `lib.peers` runs in processes of their own). What they share is in `lib/`
(see its docstring); no script imports another.
"""
