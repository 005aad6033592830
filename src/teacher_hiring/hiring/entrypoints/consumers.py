"""Hiring's consumer groups: replicas of exercises and managers, fed by the event log."""

from __future__ import annotations

from sqlalchemy import Connection

from teacher_hiring.events import exercises as exercise_events
from teacher_hiring.foundation.time import Clock, system_clock
from teacher_hiring.hiring.adapters.repository import HiringRepository
from teacher_hiring.hiring.domain import commands
from teacher_hiring.hiring.service_layer import handlers
from teacher_hiring.messaging.consumer import EventHandler, Subscription
from teacher_hiring.messaging.envelope import Envelope
from teacher_hiring.messaging.unit_of_work import UnitOfWork
from teacher_hiring.messaging.upcasting import Upcaster


def subscriptions(clock: Clock = system_clock) -> list[Subscription]:
    """The groups and their handlers; `clock` stamps what the replicas store."""

    def on_exercise(envelope: Envelope, conn: Connection) -> None:
        """ExerciseCreated/ExerciseUpdated v1 (v0 arrives upcast, with the default subject and
        difficulty): keep the newer version; late or repeated ones do nothing."""
        cmd = commands.ReplicateExercise.from_payload(envelope.payload)
        handlers.replicate_exercise(cmd, UnitOfWork.joining(conn, HiringRepository, clock=clock))

    def on_manager(envelope: Envelope, conn: Connection) -> None:
        """ManagerCreated/ManagerUpdated v1 (v0 arrives upcast, its name split) carry the whole
        manager: upsert."""
        cmd = commands.ReplicateManager.from_payload(envelope.payload)
        handlers.replicate_manager(cmd, UnitOfWork.joining(conn, HiringRepository, clock=clock))

    exercise = EventHandler(on_exercise, version=1)
    manager = EventHandler(on_manager, version=1)
    return [
        Subscription(
            handlers.EXERCISE_FEED, {"ExerciseCreated": exercise, "ExerciseUpdated": exercise}
        ),
        Subscription(handlers.MANAGER_FEED, {"ManagerCreated": manager, "ManagerUpdated": manager}),
    ]


def upcaster() -> Upcaster:
    """The steps these groups (and the push endpoint) need: exercises' v0 exercises and
    managers read as v1."""
    return Upcaster.of(exercise_events.EXERCISE_STEPS, exercise_events.MANAGER_STEPS)
