"""What must hold after a chaos run, as pure comparisons of what was observed.

Each check gets plain records gathered from the services (over HTTP) and from the topics, and
answers with its violations; the figures `lost` and `doubled` count, across checks, what a user
or a manager would miss or get twice.

Money is matched the way the ledger recognises it: by business key (one bonus per submission,
one fine per leaked solve, one payment per assignment). An issued business key must be in the
ledger exactly once, under one of the event ids issued for it, with the issued amount and
manager; or, if it is not there, its event must sit in a dead-letter topic with its reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MAX_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Accepted:
    """A verdict a candidate received with a 2xx answer."""

    candidate_id: str
    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool


@dataclass(frozen=True, slots=True)
class Stored:
    """A submission as hiring holds it."""

    submission_id: str
    exercise_id: str
    exercise_version: int
    correct: bool


@dataclass(frozen=True, slots=True)
class Money:
    """Money on one side: as issued by hiring or exercises, or as an entry of the ledger.
    Amounts are signed as the ledger holds them (a fine is negative)."""

    event_id: str
    manager_id: str
    amount_cents: int
    business_key: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    key: str
    service: str
    reason: str
    event_id: str | None


@dataclass(frozen=True, slots=True)
class Poisoned:
    topic: str
    key: str
    variant: str
    consumers: frozenset[str]  # the services that must each dead-letter it


@dataclass(frozen=True, slots=True)
class Rating:
    """The newest rating bonus holds for an exercise."""

    exercise_version: int
    rating: int
    rating_version: int


@dataclass(frozen=True, slots=True)
class Ratings:
    """Hiring's ratings of an exercise: its counter and the rating of each version."""

    rating_version: int
    by_version: Mapping[int, int]


@dataclass
class Observed:
    accepted: Sequence[Accepted] = ()
    stored: Mapping[str, Sequence[Stored]] = field(default_factory=dict)  # per candidate
    issued: Sequence[Money] = ()
    ledger: Sequence[Money] = ()
    balances: Mapping[str, int] = field(default_factory=dict)  # per manager, from accounts
    dead_letters: Sequence[DeadLetter] = ()
    poison: Sequence[Poisoned] = ()
    differences: Sequence[tuple[str, str | None]] = ()  # reconciliation: (kind, event id)
    exercise_versions: Mapping[str, int] = field(default_factory=dict)  # exercises' own
    replica_versions: Mapping[str, int] = field(default_factory=dict)  # hiring's replica
    hiring_ratings: Mapping[str, Ratings] = field(default_factory=dict)
    bonus_ratings: Mapping[str, Rating] = field(default_factory=dict)
    candidate_statuses: Mapping[str, str] = field(default_factory=dict)  # hiring's
    replica_statuses: Mapping[str, str] = field(default_factory=dict)  # exercises' replica
    leaked: Sequence[tuple[str, int]] = ()  # versions hiring found leaked (exercise, version)
    assignments: Sequence[tuple[str, int]] = ()  # exercises' complication assignments


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    checked: int  # how many things the check looked at
    violations: tuple[str, ...] = ()
    lost: int = 0
    doubled: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True, slots=True)
class Verdict:
    results: tuple[Result, ...]
    money_dead_lettered: int

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def lost(self) -> int:
        return sum(result.lost for result in self.results)

    @property
    def doubled(self) -> int:
        return sum(result.doubled for result in self.results)

    def violations(self) -> list[str]:
        return [f"{r.name}: {v}" for r in self.results for v in r.violations]


def judge(seen: Observed) -> Verdict:
    parked = money_dead_lettered(seen)
    results = (
        submissions_stored(seen),
        money_once(seen, parked),
        balances_match(seen, parked),
        reconciliation_clean(seen, parked),
        poison_dead_lettered(seen),
        replicas_agree(seen),
        one_assignment_per_leak(seen),
    )
    return Verdict(results, len(parked))


def money_dead_lettered(seen: Observed) -> set[str]:
    """Event ids of issued money that bonus dead-lettered (a handler that kept failing); the
    poison of the money topics is no issued money."""
    issued = {money.event_id for money in seen.issued}
    return {
        letter.event_id
        for letter in seen.dead_letters
        if letter.service == "bonus"
        and letter.topic in ("money", "payments")
        and letter.event_id in issued
    }


def submissions_stored(seen: Observed) -> Result:
    stored = {s.submission_id: s for items in seen.stored.values() for s in items}
    violations = []
    for accepted in seen.accepted:
        found = stored.get(accepted.submission_id)
        if found is None:
            violations.append(
                f"submission {accepted.submission_id} of candidate {accepted.candidate_id} "
                "was answered 2xx and is not stored"
            )
        elif (found.exercise_id, found.exercise_version, found.correct) != (
            accepted.exercise_id,
            accepted.exercise_version,
            accepted.correct,
        ):
            violations.append(f"submission {accepted.submission_id} is stored otherwise: {found}")
    lost = sum("is not stored" in v for v in violations)
    distinct = len({a.submission_id for a in seen.accepted})
    return Result(
        "every 2xx submission is stored",
        distinct,
        _shown(violations),
        lost=lost,
        note=f"{len(seen.accepted)} verdicts given ({distinct} submissions)",
    )


def money_once(seen: Observed, parked: set[str]) -> Result:
    """Per issued business key: one ledger entry under one of its event ids, as issued; or
    its event in the dead letters. Per ledger entry: issued by someone."""
    issued: dict[str, list[Money]] = defaultdict(list)
    for money in seen.issued:
        issued[money.business_key].append(money)
    booked: dict[str, list[Money]] = defaultdict(list)
    for entry in seen.ledger:
        booked[entry.business_key].append(entry)
    violations: list[str] = []
    lost = doubled = 0
    for key, copies in sorted(issued.items()):
        entries = booked.get(key, [])
        ids = {m.event_id for m in copies}
        if not entries:
            if ids & parked:
                continue  # dead-lettered with its reason: reported, replayable
            lost += 1
            violations.append(f"{key} ({', '.join(sorted(ids))}) is in no ledger entry")
            continue
        if len(entries) > 1:
            doubled += len(entries) - 1
            violations.append(f"{key} is in the ledger {len(entries)} times")
        entry, expected = entries[0], copies[0]
        if entry.event_id not in ids:
            violations.append(f"{key} is in the ledger under event {entry.event_id}, not issued")
        if (entry.manager_id, entry.amount_cents) != (expected.manager_id, expected.amount_cents):
            violations.append(
                f"{key}: issued {expected.amount_cents} to {expected.manager_id}, booked "
                f"{entry.amount_cents} to {entry.manager_id}"
            )
    by_event = Counter(entry.event_id for entry in seen.ledger)
    for event_id, count in by_event.items():
        if count > 1:
            doubled += count - 1
            violations.append(f"event {event_id} is in the ledger {count} times")
    for key, entries in sorted(booked.items()):
        if key not in issued:
            doubled += len(entries)
            violations.append(f"{key} is in the ledger and was never issued")
    return Result(
        "issued money is in the ledger once, or dead-lettered",
        len(issued),
        _shown(violations),
        lost=lost,
        doubled=doubled,
        note=f"{len(seen.ledger)} ledger entries; {len(parked)} money events dead-lettered",
    )


def balances_match(seen: Observed, parked: set[str]) -> Result:
    """Each account's balance is the sum of its entries and of the money issued to it (what
    sits in the dead letters aside: it is owed until replayed)."""
    issued: dict[str, int] = defaultdict(int)
    for money in _one_per_key(seen.issued).values():
        if money.event_id not in parked:
            issued[money.manager_id] += money.amount_cents
    booked: dict[str, int] = defaultdict(int)
    for entry in seen.ledger:
        booked[entry.manager_id] += entry.amount_cents
    violations = []
    managers = sorted(set(issued) | set(booked) | set(seen.balances))
    for manager in managers:
        balance = seen.balances.get(manager, 0)
        if not balance == booked[manager] == issued[manager]:
            violations.append(
                f"manager {manager}: balance {balance}, entries {booked[manager]}, "
                f"issued {issued[manager]}"
            )
    return Result("every balance is the sum of what was issued", len(managers), _shown(violations))


def reconciliation_clean(seen: Observed, parked: set[str]) -> Result:
    violations = [
        f"{kind} {event_id or ''}".strip()
        for kind, event_id in seen.differences
        if not (kind == "missing" and event_id in parked)
    ]
    waiting = len(seen.differences) - len(violations)
    note = f"{waiting} missing money events are dead letters awaiting replay" if waiting else ""
    return Result(
        "reconciliation finds no difference", len(seen.differences), _shown(violations), note=note
    )


def poison_dead_lettered(seen: Observed) -> Result:
    """Each poison record in the dead-letter topic of its topic, once per consuming service,
    as invalid. More than once is allowed (a consumer that died before committing its offset
    dead-letters the record again when it is redelivered); never at all, or as applied, not."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for letter in seen.dead_letters:
        found[(letter.key, letter.service)].append(letter.reason)
    violations = []
    again = 0
    for poison in seen.poison:
        for service in sorted(poison.consumers):
            reasons = found.get((poison.key, service), [])
            if not reasons:
                violations.append(
                    f"{poison.variant} {poison.key} on {poison.topic}: not dead-lettered by "
                    f"{service}"
                )
            elif set(reasons) != {"invalid"}:
                violations.append(f"{poison.key} dead-lettered by {service} as {reasons}")
            again += max(0, len(reasons) - 1)
    expected = sum(len(p.consumers) for p in seen.poison)
    note = f"{expected} dead letters expected" + (f", {again} written twice" if again else "")
    return Result(
        "poison sits in the dead-letter topics", len(seen.poison), _shown(violations), note=note
    )


def replicas_agree(seen: Observed) -> Result:
    """After events delivered twice and late: hiring's replica holds each exercise's current
    version, bonus the newest rating, exercises each candidate's current status."""
    violations = []
    for exercise_id, version in sorted(seen.exercise_versions.items()):
        held = seen.replica_versions.get(exercise_id)
        if held != version:
            violations.append(f"exercise {exercise_id}: version {version}, hiring has {held}")
    for exercise_id, ratings in sorted(seen.hiring_ratings.items()):
        if ratings.rating_version == 0:
            continue  # never rated: nothing was sent
        got = seen.bonus_ratings.get(exercise_id)
        if got is None or (got.rating_version, got.rating) != (
            ratings.rating_version,
            ratings.by_version.get(got.exercise_version),
        ):
            violations.append(
                f"rating of {exercise_id}: hiring at rating_version {ratings.rating_version} "
                f"{dict(ratings.by_version)}, bonus {got}"
            )
    for candidate_id, status in sorted(seen.candidate_statuses.items()):
        replica = seen.replica_statuses.get(candidate_id)
        if replica != status:
            violations.append(f"candidate {candidate_id}: {status}, exercises has {replica}")
    checked = len(seen.exercise_versions) + len(seen.hiring_ratings) + len(seen.candidate_statuses)
    return Result("replicas agree after duplicates and reordering", checked, _shown(violations))


def one_assignment_per_leak(seen: Observed) -> Result:
    """Each version hiring found leaked has one complication assignment, however often its
    leak report was delivered; none was opened for a version that did not leak."""
    opened = Counter(seen.assignments)
    violations = [
        f"exercise {exercise_id} v{version}: {opened[(exercise_id, version)]} assignments"
        for exercise_id, version in sorted(set(seen.leaked))
        if opened[(exercise_id, version)] != 1
    ]
    violations += [
        f"exercise {exercise_id} v{version}: an assignment, and hiring saw no leak"
        for exercise_id, version in sorted(set(opened) - set(seen.leaked))
    ]
    return Result(
        "each leaked version has one complication assignment",
        len(set(seen.leaked)),
        _shown(violations),
    )


def _one_per_key(money: Iterable[Money]) -> dict[str, Money]:
    first: dict[str, Money] = {}
    for item in money:
        first.setdefault(item.business_key, item)
    return first


def _shown(violations: list[str]) -> tuple[str, ...]:
    if len(violations) <= MAX_SHOWN:
        return tuple(violations)
    return (*violations[:MAX_SHOWN], f"... and {len(violations) - MAX_SHOWN} more")
