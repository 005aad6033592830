"""The embedded durable event log: Kafka's semantics in one SQLite file that processes share.

It lets the three services, their relays and their consumers run on one machine with nothing
else installed, while keeping the delivery guarantees the code is written against (keyed
partitions, per-partition offsets, consumer groups, committed offsets, at-least-once), so that
switching to Kafka changes configuration, not code.

There is no broker process: group membership is a table of heartbeats and partition ownership
a table of leases, which each member maintains when it polls.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson

from teacher_hiring.messaging import transport

BUSY_TIMEOUT_S = 10.0
RETENTION_CHUNK = 5_000  # records deleted per transaction, so that producers never wait long

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS topics (
        name TEXT PRIMARY KEY, partitions INTEGER NOT NULL) WITHOUT ROWID""",
    # The head survives retention, so offsets stay monotonic when old records are deleted.
    """CREATE TABLE IF NOT EXISTS heads (
        topic TEXT, partition_no INTEGER, next_offset INTEGER NOT NULL,
        PRIMARY KEY (topic, partition_no)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS records (
        topic TEXT, partition_no INTEGER, offset_no INTEGER, key TEXT NOT NULL,
        value BLOB NOT NULL, headers TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,
        PRIMARY KEY (topic, partition_no, offset_no)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS group_members (
        group_id TEXT, topic TEXT, member_id TEXT, heartbeat_ms INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, member_id)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS group_owners (
        group_id TEXT, topic TEXT, partition_no INTEGER, member_id TEXT NOT NULL,
        lease_expiry_ms INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, partition_no)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS group_offsets (
        group_id TEXT, topic TEXT, partition_no INTEGER, committed_offset INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, partition_no)) WITHOUT ROWID""",
)

_SELECT_RECORDS = """SELECT offset_no, key, value, headers, timestamp_ms FROM records
    WHERE topic = ? AND partition_no = ? AND offset_no >= ? ORDER BY offset_no LIMIT ?"""
_SELECT_HEADS = "SELECT partition_no, next_offset FROM heads WHERE topic = ?"
_SELECT_COMMITTED = """SELECT partition_no, committed_offset FROM group_offsets
    WHERE group_id = ? AND topic = ?"""


def partition_for_key(key: str, partitions: int) -> int:
    """crc32, not hash(): Python salts str hashes per process, and every process must agree."""
    return zlib.crc32(key.encode()) % partitions


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _dump_headers(headers: Mapping[str, str]) -> str:
    return orjson.dumps(dict(headers)).decode() if headers else "{}"


def _load_headers(text: str) -> dict[str, str]:
    loaded: dict[str, str] = orjson.loads(text) if text != "{}" else {}
    return loaded


class _Connections:
    """One connection per thread: sqlite3 connections must not be shared between threads."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._open: dict[threading.Thread, sqlite3.Connection] = {}

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._pid == os.getpid():
            return conn
        conn = sqlite3.connect(
            self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours to use
                self._pid, self._open = os.getpid(), {}
            for thread in [t for t in self._open if not t.is_alive()]:
                self._open.pop(thread).close()
            self._open[threading.current_thread()] = conn
        self._local.conn = conn
        return conn

    def close_all(self) -> None:
        with self._lock:
            for conn in self._open.values():
                conn.close()
            self._open.clear()
        self._local = threading.local()


class _Store:
    """The SQLite file: connections, transactions and topic metadata."""

    def __init__(self, path: Path, default_partitions: int) -> None:
        self.path = path
        self.default_partitions = default_partitions
        self.connections = _Connections(path)
        self._partition_counts: dict[str, int] = {}  # a topic's partition count never changes

    def create_schema(self) -> None:
        self._use_wal()
        with self.transaction() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at its start: in WAL mode a read
        transaction that later tries to write fails at once with SQLITE_BUSY instead of
        waiting for the busy timeout."""
        conn = self.connections.get()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._error(error) from error
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as error:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._partition_counts.clear()  # it may hold a topic created by this transaction
            if isinstance(error, sqlite3.Error):
                raise self._error(error) from error
            raise

    def query(self, sql: str, params: Sequence[object]) -> list[Any]:
        try:
            return self.connections.get().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise self._error(error) from error

    def data_version(self) -> int:
        """Changes whenever another connection commits: a nearly free "anything new?" check."""
        return int(self.query("PRAGMA data_version", ())[0][0])

    def heads(self, topic: str) -> dict[int, int]:
        return dict(self.query(_SELECT_HEADS, (topic,)))

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[transport.Record]:
        return [
            transport.Record(topic, partition, off, key, value, _load_headers(headers), ts)
            for off, key, value, headers, ts in self.query(
                _SELECT_RECORDS, (topic, partition, offset, limit)
            )
        ]

    def partition_count(self, conn: sqlite3.Connection, topic: str, *, create: bool) -> int:
        """The topic's partition count, 0 if it does not exist; `create` (only inside a
        transaction) creates it as Kafka's auto-create does."""
        if topic in self._partition_counts:
            return self._partition_counts[topic]
        row = conn.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
        if row is None and not create:
            return 0
        if row is None:
            row = (self.default_partitions,)
            conn.execute("INSERT INTO topics VALUES (?, ?)", (topic, row[0]))
            conn.executemany(
                "INSERT INTO heads VALUES (?, ?, 0)", [(topic, p) for p in range(row[0])]
            )
        self._partition_counts[topic] = row[0]
        return int(row[0])

    def _error(self, error: sqlite3.Error) -> transport.TransportError:
        return transport.TransportError(f"embedded log {self.path}: {error}")

    def _use_wal(self) -> None:
        """Switching to WAL needs an exclusive lock and does not wait for it: retry while
        another process is creating the same file."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                (mode,) = self.connections.get().execute("PRAGMA journal_mode=WAL").fetchone()
                break
            except sqlite3.OperationalError as error:
                if time.monotonic() > deadline:
                    raise self._error(error) from error
                time.sleep(0.01)
        if mode.lower() != "wal":
            raise transport.TransportError(f"embedded log {self.path}: cannot use WAL (got {mode})")


class EmbeddedLog(transport.Transport):
    """The default transport on one machine; several processes may open the same file."""

    def __init__(
        self,
        path: str | Path,
        *,
        default_partitions: int = 6,
        retention_ms: int = 7 * 24 * 3600 * 1000,
        session_timeout_ms: int = 6000,
        poll_interval_s: float = 0.02,
    ) -> None:
        self.path = Path(path)
        self.retention_ms = retention_ms
        self.session_timeout_ms = session_timeout_ms
        self.poll_interval_s = poll_interval_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._store = _Store(self.path, default_partitions)
        self._store.create_schema()

    def ensure_topics(self, topics: Sequence[str]) -> None:
        with self._store.transaction() as conn:
            for topic in topics:
                self._store.partition_count(conn, topic, create=True)
                self._store.partition_count(conn, transport.dlq_topic(topic), create=True)

    def producer(self) -> transport.Producer:
        return _Producer(self._store)

    def consumer(
        self, group: str, topics: Sequence[str], member_id: str | None = None
    ) -> transport.Consumer:
        return _GroupMember(
            self._store,
            group,
            topics,
            member_id or uuid.uuid4().hex,
            session_timeout_ms=self.session_timeout_ms,
            poll_interval_s=self.poll_interval_s,
        )

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[transport.Record]:
        return self._store.read(topic, partition, offset, limit)

    def partitions_for(self, topic: str) -> int:
        """0 for a topic that does not exist yet."""
        return self._store.partition_count(self._store.connections.get(), topic, create=False)

    def end_offsets(self, topic: str) -> dict[int, int]:
        return self._store.heads(topic)

    def start_offsets(self, topic: str) -> dict[int, int]:
        heads = self._store.heads(topic)
        firsts = dict(
            self._store.query(
                """SELECT partition_no, min(offset_no) FROM records WHERE topic = ?
                   GROUP BY partition_no""",
                (topic,),
            )
        )
        return {part: firsts.get(part, head) for part, head in heads.items()}

    def delete_records(self, topic: str, before: Mapping[int, int]) -> None:
        """One transaction for every partition named; offsets beyond the head are refused, as
        Kafka refuses them."""
        with self._store.transaction() as conn:
            for part, offset in before.items():
                row = conn.execute(
                    "SELECT next_offset FROM heads WHERE topic = ? AND partition_no = ?",
                    (topic, part),
                ).fetchone()
                if row is None or offset > row[0]:
                    head = "no such partition" if row is None else f"its end is {row[0]}"
                    raise transport.TransportError(
                        f"embedded log: cannot delete {topic}[{part}] below {offset} ({head})"
                    )
                conn.execute(
                    "DELETE FROM records WHERE topic = ? AND partition_no = ? AND offset_no < ?",
                    (topic, part, offset),
                )

    def enforce_retention(self, now_ms: int | None = None) -> int:
        """Delete the records older than retention_ms and return how many.

        Like Kafka, retention is by time and only removes a prefix of each partition: the log
        start moves forward and the remaining records keep their offsets.
        """
        cutoff = (_now_ms() if now_ms is None else now_ms) - self.retention_ms
        heads = self._store.query("SELECT topic, partition_no, next_offset FROM heads", ())
        return sum(self._trim(topic, part, head, cutoff) for topic, part, head in heads)

    def close(self) -> None:
        self._store.connections.close_all()

    def _trim(self, topic: str, partition: int, head: int, cutoff_ms: int) -> int:
        first_kept = self._store.query(
            """SELECT offset_no FROM records WHERE topic = ? AND partition_no = ?
               AND timestamp_ms >= ? ORDER BY offset_no LIMIT 1""",
            (topic, partition, cutoff_ms),
        )
        end = first_kept[0][0] if first_kept else head
        deleted = 0
        while True:
            with self._store.transaction() as conn:
                count: int = conn.execute(
                    """DELETE FROM records WHERE topic = ? AND partition_no = ? AND offset_no
                       < min(?, ? + (SELECT min(offset_no) FROM records
                                     WHERE topic = ? AND partition_no = ?))""",
                    (topic, partition, end, RETENTION_CHUNK, topic, partition),
                ).rowcount
            deleted += count
            if count < RETENTION_CHUNK:
                return deleted


class _Producer(transport.Producer):
    def __init__(self, store: _Store) -> None:
        self._store = store

    def send(self, messages: Sequence[transport.OutgoingMessage]) -> None:
        """One transaction for the whole batch: all of it is appended, or none."""
        if not messages:
            return
        with self._store.transaction() as conn:
            now = _now_ms()
            rows: list[tuple[object, ...]] = []
            heads: list[tuple[int, str, int]] = []
            for (topic, part), batch in self._by_partition(conn, messages).items():
                (start,) = conn.execute(
                    "SELECT next_offset FROM heads WHERE topic = ? AND partition_no = ?",
                    (topic, part),
                ).fetchone()
                rows.extend(
                    (topic, part, start + i, m.key, m.value, _dump_headers(m.headers), now)
                    for i, m in enumerate(batch)
                )
                heads.append((start + len(batch), topic, part))
            conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "UPDATE heads SET next_offset = ? WHERE topic = ? AND partition_no = ?", heads
            )

    def _by_partition(
        self, conn: sqlite3.Connection, messages: Sequence[transport.OutgoingMessage]
    ) -> dict[tuple[str, int], list[transport.OutgoingMessage]]:
        batches: dict[tuple[str, int], list[transport.OutgoingMessage]] = {}
        for message in messages:
            count = self._store.partition_count(conn, message.topic, create=True)
            part = partition_for_key(message.key, count)
            batches.setdefault((message.topic, part), []).append(message)
        return batches


def _fair_share(partitions: int, live_members: Sequence[str], member: str, topic: str) -> int:
    """Every member computes the same split from the same sorted member list, so the shares add
    up to exactly the partition count. Who gets one extra rotates with the topic, so that
    several small topics do not all load the same members."""
    base, extra = divmod(partitions, len(live_members))
    rank = (live_members.index(member) - zlib.crc32(topic.encode())) % len(live_members)
    return base + (1 if rank < extra else 0)


def _share_out(
    budget: int, available: Mapping[transport.TopicPartition, int]
) -> dict[transport.TopicPartition, int]:
    """Split a poll's budget across partitions so that a busy one cannot starve the others."""
    quotas = dict.fromkeys(available, 0)
    pending = [tp for tp, count in available.items() if count > 0]
    while budget > 0 and pending:
        each = max(1, budget // len(pending))
        for tp in list(pending):
            take = min(each, available[tp] - quotas[tp], budget)
            quotas[tp] += take
            budget -= take
            if quotas[tp] == available[tp]:
                pending.remove(tp)
            if budget == 0:
                break
    return {tp: quota for tp, quota in quotas.items() if quota}


class _GroupMember(transport.Consumer):
    """Each poll renews this member's heartbeat and leases, then takes or gives back partitions
    to reach its fair share of the live members; a member that stops polling loses its
    partitions when its leases expire."""

    def __init__(
        self,
        store: _Store,
        group: str,
        topics: Sequence[str],
        member_id: str,
        *,
        session_timeout_ms: int,
        poll_interval_s: float,
    ) -> None:
        self.member_id = member_id
        self._store = store
        self._group = group
        self._topics = tuple(dict.fromkeys(topics))
        self._session_ms = session_timeout_ms
        self._poll_interval_s = poll_interval_s
        self._positions: dict[
            transport.TopicPartition, int
        ] = {}  # owned partition -> next offset to read
        self._turn = 0
        self._last_rebalance = 0.0
        self._closed = False
        self._rebalance()

    def poll(self, max_records: int, timeout_s: float) -> list[transport.Record]:
        """Leases are renewed a few times per session, not on every poll: an idle member costs
        one `PRAGMA data_version` per interval, and reads only after someone else committed."""
        self._check_open()
        deadline = time.monotonic() + timeout_s
        seen_version: int | None = None
        while True:
            if time.monotonic() - self._last_rebalance > self._session_ms / 3000:
                self._rebalance()
                seen_version = None
            version = self._store.data_version()
            if version != seen_version:
                records = self._fetch(max_records)
                if records:
                    return records
                seen_version = version
            now = time.monotonic()
            if now >= deadline:
                return []
            time.sleep(min(self._poll_interval_s, deadline - now))

    def commit(self, offsets: Mapping[transport.TopicPartition, int]) -> None:
        """Only while this member owns every named partition, so that a member that lost them
        cannot move their new owner's offsets."""
        self._check_open()
        if not offsets:
            return
        with self._store.transaction() as conn:
            revoked = [tp for tp in offsets if self._owner(conn, tp) != self.member_id]
            if revoked:
                for tp in revoked:
                    self._positions.pop(tp, None)
                raise transport.PartitionsRevoked(f"group {self._group}: no longer owns {revoked}")
            conn.executemany(
                """INSERT INTO group_offsets VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE
                   SET committed_offset = max(committed_offset, excluded.committed_offset)""",
                [(self._group, tp.topic, tp.partition, off) for tp, off in offsets.items()],
            )

    def seek(self, partition: transport.TopicPartition, offset: int) -> None:
        """A partition this member lost is ignored: its new owner reads from the committed
        offset, which is what a seek back is for."""
        if partition in self._positions:
            self._positions[partition] = offset

    def assignment(self) -> set[transport.TopicPartition]:
        return set(self._positions)

    def lag(self) -> dict[transport.TopicPartition, int]:
        lag: dict[transport.TopicPartition, int] = {}
        for topic in self._topics:
            heads = self._store.heads(topic)
            committed = dict(self._store.query(_SELECT_COMMITTED, (self._group, topic)))
            for tp in self._positions:
                if tp.topic == topic:
                    lag[tp] = max(0, heads.get(tp.partition, 0) - committed.get(tp.partition, 0))
        return lag

    def close(self) -> None:
        """Release the partitions now rather than after the session timeout."""
        if self._closed:
            return
        with self._store.transaction() as conn:
            key = (self._group, self.member_id)
            conn.execute("DELETE FROM group_owners WHERE group_id = ? AND member_id = ?", key)
            conn.execute("DELETE FROM group_members WHERE group_id = ? AND member_id = ?", key)
        self._closed = True
        self._positions.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise transport.TransportError(
                f"consumer {self.member_id} of group {self._group} is closed"
            )

    def _owner(self, conn: sqlite3.Connection, tp: transport.TopicPartition) -> str | None:
        row = conn.execute(
            """SELECT member_id FROM group_owners
               WHERE group_id = ? AND topic = ? AND partition_no = ?""",
            (self._group, tp.topic, tp.partition),
        ).fetchone()
        return None if row is None else str(row[0])

    def _rebalance(self) -> None:
        positions: dict[transport.TopicPartition, int] = {}
        with self._store.transaction() as conn:
            now = _now_ms()
            for topic in self._topics:
                kept, claimed = self._balance(conn, topic, now)
                # A claimed partition restarts at the committed offset even if this member had
                # it before: another member may have read and committed it in between.
                committed = dict(conn.execute(_SELECT_COMMITTED, (self._group, topic)))
                for p in kept:
                    tp = transport.TopicPartition(topic, p)
                    positions[tp] = self._positions.get(tp, committed.get(p, 0))
                for p in claimed:
                    positions[transport.TopicPartition(topic, p)] = committed.get(p, 0)
        self._positions = positions
        self._last_rebalance = time.monotonic()

    def _balance(
        self, conn: sqlite3.Connection, topic: str, now: int
    ) -> tuple[list[int], list[int]]:
        """Returns the partitions this member keeps and those it newly claims."""
        group, me = self._group, self.member_id
        partitions = self._store.partition_count(conn, topic, create=True)
        live = self._heartbeat(conn, topic, now)
        owners = {
            p: (m, expiry)
            for p, m, expiry in conn.execute(
                """SELECT partition_no, member_id, lease_expiry_ms FROM group_owners
                   WHERE group_id = ? AND topic = ?""",
                (group, topic),
            )
        }
        target = _fair_share(partitions, live, me, topic)
        kept = sorted(p for p, (m, _) in owners.items() if m == me)
        conn.executemany(
            "DELETE FROM group_owners WHERE group_id = ? AND topic = ? AND partition_no = ?",
            [(group, topic, p) for p in kept[target:]],
        )
        kept = kept[:target]
        free = [p for p in range(partitions) if p not in owners or owners[p][1] < now]
        claimed = [p for p in free if owners.get(p, ("",))[0] != me][: target - len(kept)]
        conn.executemany(
            "INSERT OR REPLACE INTO group_owners VALUES (?, ?, ?, ?, ?)",
            [(group, topic, p, me, now + self._session_ms) for p in kept + claimed],
        )
        return kept, claimed

    def _heartbeat(self, conn: sqlite3.Connection, topic: str, now: int) -> list[str]:
        """Records this member as alive and returns the live members, sorted."""
        conn.execute(
            """INSERT INTO group_members VALUES (?, ?, ?, ?)
               ON CONFLICT DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms""",
            (self._group, topic, self.member_id, now),
        )
        conn.execute(
            "DELETE FROM group_members WHERE group_id = ? AND topic = ? AND heartbeat_ms < ?",
            (self._group, topic, now - self._session_ms),
        )
        return [
            m
            for (m,) in conn.execute(
                "SELECT member_id FROM group_members WHERE group_id = ? AND topic = ? ORDER BY 1",
                (self._group, topic),
            )
        ]

    def _fetch(self, max_records: int) -> list[transport.Record]:
        if not self._positions or max_records <= 0:
            return []
        heads = {
            transport.TopicPartition(topic, p): head
            for topic in self._topics
            for p, head in self._store.heads(topic).items()
        }
        order = sorted(self._positions, key=lambda tp: (tp.topic, tp.partition))
        self._turn = (self._turn + 1) % len(order)  # rotate who gets the budget's remainder
        order = order[self._turn :] + order[: self._turn]
        available = {tp: heads.get(tp, 0) - self._positions[tp] for tp in order}
        records: list[transport.Record] = []
        for tp, quota in _share_out(max_records, available).items():
            batch = self._store.read(tp.topic, tp.partition, self._positions[tp], quota)
            # Nothing left below the head means retention removed it: skip to the head.
            self._positions[tp] = batch[-1].offset + 1 if batch else heads[tp]
            records.extend(batch)
        return records
