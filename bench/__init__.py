"""The platform's benchmarks: `make bench` (`python -m bench`) measures the business problems
the event-driven form was built to fix, `before` (the old wiring) against `after`, and writes
docs/benchmarks.md with its tables and charts; `make bench-speed` (`python -m bench.speed`)
measures the platform on one machine at its rated load and writes docs/speed.md.

Modules: `load` (the open-loop load generator), `platform` (the platform under test, its
workload and what it reports), `problems` (one measurement per business problem), `peers`
(the ledger consumer against FastStream and the raw clients, on Kafka and PostgreSQL),
`charts` and `report` (the document), `run` (the command line).
"""
