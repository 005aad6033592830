"""The transport contract on the embedded log, and what only a shared file has to guarantee."""

from __future__ import annotations

import multiprocessing
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from integration.transport_contract import TransportContract, drain, keyed_messages, unique
from teacher_hiring.messaging import embedded_log
from teacher_hiring.messaging.embedded_log import EmbeddedLog
from teacher_hiring.messaging.transport import OutgoingMessage, Record, TransportError

pytestmark = pytest.mark.integration

WRITERS, BATCHES, KEYS = 4, 15, 40


def produce_from_another_process(path: str, topic: str, writer: int, start: Any) -> None:
    """Runs in a spawned process: every writer opens the (maybe not yet created) file at once."""
    start.wait()
    log = EmbeddedLog(path)
    producer = log.producer()
    for batch in range(BATCHES):
        producer.send(
            [
                OutgoingMessage(topic, f"key-{k}", f"{writer}:{k}:{batch}".encode())
                for k in range(KEYS)
            ]
        )
    log.close()


def read_everything(log: EmbeddedLog, topic: str) -> dict[int, list[Record]]:
    return {p: log.read(topic, p, 0, 1_000_000) for p in range(log.partitions_for(topic))}


def assert_contiguous_from(records: dict[int, list[Record]], start: int = 0) -> None:
    for partition, stored in records.items():
        assert [r.offset for r in stored] == list(range(start, start + len(stored))), partition


class TestEmbeddedLog(TransportContract):
    SESSION_TIMEOUT_S = 1.0
    REBALANCE_TIMEOUT_S = 5.0

    @pytest.fixture
    def transport(self, tmp_path: Path) -> Iterator[EmbeddedLog]:
        log = EmbeddedLog(
            tmp_path / "var" / "events.db",
            session_timeout_ms=int(self.SESSION_TIMEOUT_S * 1000),
            poll_interval_s=0.002,
        )
        yield log
        log.close()

    def test_the_partition_is_the_crc32_of_the_key(self, transport: EmbeddedLog) -> None:
        topic = unique("crc")
        transport.producer().send(keyed_messages(topic, keys=30, per_key=1))
        partitions = transport.partitions_for(topic)

        stored = [r for records in read_everything(transport, topic).values() for r in records]
        assert len(stored) == 30
        assert all(r.partition == zlib.crc32(r.key.encode()) % partitions for r in stored)

    def test_an_unknown_topic_is_created_on_first_send(self, transport: EmbeddedLog) -> None:
        topic = unique("auto")
        assert transport.partitions_for(topic) == 0
        transport.producer().send([OutgoingMessage(topic, "k", b"v")])

        assert transport.partitions_for(topic) == 6
        assert sum(transport.end_offsets(topic).values()) == 1

    def test_a_batch_that_fails_appends_nothing(self, transport: EmbeddedLog) -> None:
        topic, producer = unique("atomic"), transport.producer()
        broken = OutgoingMessage(topic, "b", cast(bytes, None))  # violates NOT NULL

        with pytest.raises(TransportError):
            producer.send([OutgoingMessage(topic, "a", b"first"), broken])
        assert transport.partitions_for(topic) == 0
        producer.send([OutgoingMessage(topic, "a", b"again")])
        stored = [r for records in read_everything(transport, topic).values() for r in records]
        assert [(r.offset, r.value) for r in stored] == [(0, b"again")]

    def test_committed_offsets_never_move_backwards(self, transport: EmbeddedLog) -> None:
        topic = unique("backwards")
        transport.producer().send([OutgoingMessage(topic, "k", b"%d" % i) for i in range(10)])
        consumer = transport.consumer(unique("group"), [topic])
        tp = next(iter(drain(consumer, 10, commit=False))).topic_partition
        consumer.commit({tp: 7})
        consumer.commit({tp: 3})

        assert consumer.lag()[tp] == 3

    def test_processes_writing_at_once_get_contiguous_offsets(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # pytest names this module tests.integration.test_embedded_log; a spawned child finds
        # it (and the writer function) only if the project root is on its sys.path.
        monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
        path, topic = str(tmp_path / "shared" / "events.db"), unique("concurrent")
        spawn = multiprocessing.get_context("spawn")
        start = spawn.Barrier(WRITERS)
        writers = [
            spawn.Process(target=produce_from_another_process, args=(path, topic, w, start))
            for w in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)
        assert [writer.exitcode for writer in writers] == [0] * WRITERS

        log = EmbeddedLog(path)
        records = read_everything(log, topic)
        assert_contiguous_from(records)
        stored = [r.value.decode() for partition in records.values() for r in partition]
        assert len(stored) == len(set(stored)) == WRITERS * BATCHES * KEYS
        for partition in records.values():  # each writer's batches of a key stay in order
            per_writer_key: dict[str, list[int]] = {}
            for writer_key, batch in (v.value.decode().rsplit(":", 1) for v in partition):
                per_writer_key.setdefault(writer_key, []).append(int(batch))
            assert all(b == sorted(b) for b in per_writer_key.values())
        log.close()

    def test_threads_share_one_log(self, transport: EmbeddedLog) -> None:
        topic = unique("threads")
        producer = transport.producer()
        consumer = transport.consumer(unique("group"), [topic])

        def produce(thread: int) -> None:
            for batch in range(10):
                producer.send(
                    [
                        OutgoingMessage(topic, f"k{i}", b"%d:%d:%d" % (thread, batch, i))
                        for i in range(20)
                    ]
                )

        threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        read: list[Record] = []
        reader = threading.Thread(target=lambda: read.extend(drain(consumer, 800)))
        reader.start()
        reader.join()

        assert_contiguous_from(read_everything(transport, topic))
        assert len({r.value for r in read}) == len(read) == 800

    def test_retention_deletes_old_records_and_offsets_continue(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(embedded_log, "RETENTION_CHUNK", 3)  # several delete transactions
        log = EmbeddedLog(tmp_path / "events.db", retention_ms=60_000)
        topic, producer = unique("retention"), log.producer()
        producer.send([OutgoingMessage(topic, "k", b"old-%d" % i) for i in range(10)])
        partition = embedded_log.partition_for_key("k", log.partitions_for(topic))
        newest_old = max(r.timestamp_ms for r in log.read(topic, partition, 0, 100))
        time.sleep(0.01)
        producer.send([OutgoingMessage(topic, "k", b"new-%d" % i) for i in range(5)])

        assert log.enforce_retention(now_ms=newest_old + 60_000 + 1) == 10
        assert log.enforce_retention(now_ms=newest_old + 60_000 + 1) == 0
        producer.send([OutgoingMessage(topic, "k", b"later")])
        kept = log.read(topic, partition, 0, 100)
        assert [(r.offset, r.value) for r in kept] == [
            *((10 + i, b"new-%d" % i) for i in range(5)),
            (15, b"later"),
        ]
        assert log.end_offsets(topic)[partition] == 16
        assert [r.value for r in drain(log.consumer(unique("group"), [topic]), 6)] == [
            r.value for r in kept
        ]
        log.close()

    def test_reopening_the_file_keeps_records_and_committed_offsets(self, tmp_path: Path) -> None:
        path, topic, group = tmp_path / "events.db", unique("durable"), unique("group")
        log = EmbeddedLog(path)
        log.producer().send(keyed_messages(topic, keys=10, per_key=10))
        consumer = log.consumer(group, [topic])
        first = drain(consumer, 40)
        consumer.close()
        before = read_everything(log, topic)
        log.close()

        reopened = EmbeddedLog(path)
        rest = drain(reopened.consumer(group, [topic]), 60)
        assert read_everything(reopened, topic) == before
        assert len(first) == 40
        assert sorted(r.value for r in first + rest) == sorted(
            m.value for m in keyed_messages(topic, keys=10, per_key=10)
        )
        assert reopened.end_offsets(topic) == {p: len(r) for p, r in before.items()}
        reopened.close()
