"""What the bench's scripts share: the load generator, the platform under test, the measurements
and their reports, and the Kafka and PostgreSQL plumbing of the distributed runs.

  load                 the open-loop load generator
  platform_under_test  the platform started for a run, its workload and what it reports
  problems             one measurement per business problem (`python -m bench`)
  results              what `python -m bench` measured, and the goals judged on it
  report, charts       docs/benchmarks.md and its figures
  peers                bonus's ledger consumer against FastStream and the raw clients
  kafka_pg             Kafka and PostgreSQL: servers, databases, topics, ports
  records              the money events, as envelopes, outbox rows and Kafka records
  raw                  the raw baselines: confluent-kafka alone, psycopg alone
  cpu                  CPU-seconds per component, from /proc
  profiles             py-spy and cProfile summaries
  pipeline             outbox -> relay -> Kafka -> ledger as real processes, stage by stage
  pipeline_report      the table of those stages (`python -m bench.distributed`)
"""
