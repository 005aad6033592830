"""The exercise-streaming link: ExerciseCreated and ExerciseUpdated pushed to hiring before the
creation or save returns, kept in the outbox and retried while hiring is down, or published to
the log in event mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from integration.exercises.exercises_support import Service, ServiceFactory
from teacher_hiring.messaging.registry import SchemaRegistry
from teacher_hiring.messaging.wire import RecordCodec

pytestmark = pytest.mark.integration


CODEC = RecordCodec(SchemaRegistry.load())


class Receiver:
    """A stand-in for hiring's POST /api/v0/exercise on a real socket; keeps each pushed event
    as put back together from its body and `ce-` headers."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                event = CODEC.decode_http(body, dict(self.headers.items()))
                received.append((self.path, event.as_dict()))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


def test_a_creation_pushes_the_exercise_to_hiring_before_it_returns(
    make_service: ServiceFactory, receiver: Receiver
) -> None:
    service = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    author = service.manager()

    body = {"author_id": author, "title": "Sum", "statement": "2+3?", "accepted_answers": ["5"]}
    created = service.ok("POST", "/exercises", json=body)

    assert created["pushed"] is True
    [event] = service.staged("ExerciseCreated")
    assert receiver.received == [("/api/v0/exercise", event)]
    assert event["payload"]["exercise_id"] == created["id"]
    assert not service.unsent(event["event_id"])
    [manager] = service.staged("ManagerCreated")
    assert not service.unsent(manager["event_id"])  # the rest went to the log meanwhile
    assert service.log_records("exercises") == []


def test_a_save_pushes_the_new_version_to_hiring_before_it_returns(
    make_service: ServiceFactory, receiver: Receiver
) -> None:
    service = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    author = service.manager()
    exercise_id = service.exercise(author)

    saved = service.edit(exercise_id, author, statement="Harder", accepted_answers=["43"])

    assert saved["pushed"] is True
    [created] = service.staged("ExerciseCreated")
    [update] = service.staged("ExerciseUpdated")
    assert receiver.received == [("/api/v0/exercise", created), ("/api/v0/exercise", update)]
    assert update["payload"]["version"] == 2
    assert not service.unsent(update["event_id"])


def test_with_hiring_down_creations_and_saves_succeed_and_the_pushes_are_retried_later(
    make_service: ServiceFactory,
) -> None:
    down = Receiver()
    port = down.server.server_address[1]
    down.stop()
    service = make_service(exercise_updates_link="push", hiring_url=f"http://127.0.0.1:{port}")
    author = service.manager()

    body = {"author_id": author, "title": "Sum", "statement": "2+3?", "accepted_answers": ["5"]}
    created = service.client.post("/exercises", json=body)
    assert created.status_code == 201
    assert created.json()["pushed"] is False
    exercise_id = created.json()["id"]
    response = service.client.put(
        f"/exercises/{exercise_id}", json={"editor_id": author, "statement": "Harder"}
    )

    assert response.status_code == 200
    assert response.json()["pushed"] is False
    [creation] = service.staged("ExerciseCreated")
    [update] = service.staged("ExerciseUpdated")
    assert service.unsent(creation["event_id"]) and service.unsent(update["event_id"])

    back = Receiver(port)
    try:
        time.sleep(0.1)  # past the relay's back-off
        assert service.runtime.relay.flush(timeout_s=5)
        pushed = [("/api/v0/exercise", creation), ("/api/v0/exercise", update)]
        assert back.received == pushed  # in the order they were committed
        assert not service.unsent(creation["event_id"]) and not service.unsent(update["event_id"])
    finally:
        back.stop()


def test_in_event_mode_exercise_updated_goes_to_the_log_like_every_event(
    service: Service,
) -> None:
    author = service.manager()
    exercise_id = service.exercise(author)
    service.edit(exercise_id, author, statement="Harder")

    assert service.runtime.relay.flush(timeout_s=5)

    names = [e["event_name"] for e in service.log_records("exercises")]
    assert names == ["ExerciseCreated", "ExerciseUpdated"]


def test_the_link_mode_can_be_switched_at_run_time(
    make_service: ServiceFactory, receiver: Receiver
) -> None:
    service = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    author = service.manager()
    exercise_id = service.exercise(author)
    assert service.edit(exercise_id, author, statement="Pushed")["pushed"] is True

    switched = service.ok("PUT", "/operator/links/exercise-updates", json={"mode": "event"})
    assert switched["mode"] == "event" and switched["switched_at"] is not None
    assert switched["events"] == ["ExerciseUpdated", "ExerciseCreated"]
    logged = service.edit(exercise_id, author, statement="Logged")
    service.runtime.relay.flush(timeout_s=5)

    assert logged["pushed"] is False
    assert [e["payload"]["version"] for _, e in receiver.received] == [1, 2]
    in_log = [e for e in service.log_records("exercises") if e["event_name"] == "ExerciseUpdated"]
    assert [e["payload"]["version"] for e in in_log] == [3]


def test_every_instance_follows_a_switch_and_a_restart_keeps_it(
    make_service: ServiceFactory, receiver: Receiver
) -> None:
    first = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    second = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    assert second.ok("GET", "/operator/links/exercise-updates")["mode"] == "push"

    first.ok("PUT", "/operator/links/exercise-updates", json={"mode": "event"})
    time.sleep(second.services.link.flags.ttl_s + 0.05)

    assert second.ok("GET", "/operator/links/exercise-updates")["mode"] == "event"
    restarted = make_service(exercise_updates_link="push", hiring_url=receiver.url)
    state = restarted.ok("GET", "/operator/links")
    modes = {link["link"]: link["mode"] for link in state}
    assert modes == {"exercise-updates": "event", "payment": "event"}  # payment: its setting


def test_a_wrong_link_or_mode_is_refused_and_changes_nothing(service: Service) -> None:
    unknown = service.client.put("/operator/links/payments", json={"mode": "event"})
    wrong = service.client.put("/operator/links/exercise-updates", json={"mode": "carrier-pigeon"})
    empty = service.client.put("/operator/links/exercise-updates", json={})

    assert unknown.status_code == 404 and "exercise-updates" in unknown.json()["detail"]
    assert wrong.status_code == 422 and wrong.json()["detail"].startswith("mode:")
    assert wrong.json()["error"] == "ModeRefused"
    assert empty.status_code == 422 and "mode" in str(empty.json()["detail"])
    state = service.ok("GET", "/operator/links/exercise-updates")
    assert (state["mode"], state["switched_at"]) == ("event", None)
