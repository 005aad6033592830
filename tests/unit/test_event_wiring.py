"""The catalogue lists exactly what the code publishes and consumes (schemas/events.yaml).

A service that publishes or subscribes to an event the catalogue does not list, or a
catalogue that names a producer or consumer whose code does not really stage or subscribe,
fails here with what to change.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from event_wiring import (
    SERVICES,
    Route,
    ScanError,
    Use,
    consumed,
    mismatches,
    published,
    resolve,
    routes,
)

from teacher_hiring.messaging.registry import SchemaRegistry


@pytest.fixture(scope="module")
def catalogue() -> dict[str, tuple[str, tuple[str, ...]]]:
    return {spec.name: (spec.producer, spec.consumers) for spec in SchemaRegistry.load().events()}


@pytest.fixture(scope="module")
def publishing() -> list[Use]:
    return [use for service in SERVICES for use in published(service)]


@pytest.fixture(scope="module")
def consuming() -> list[Use]:
    return [use for service in SERVICES for use in consumed(service)]


@pytest.fixture(scope="module")
def link_routes() -> list[Route]:
    return [route for service in SERVICES for route in routes(service)]


def test_the_catalogue_lists_exactly_what_the_services_publish_and_consume(
    catalogue: dict[str, tuple[str, tuple[str, ...]]],
    publishing: list[Use],
    consuming: list[Use],
    link_routes: list[Route],
) -> None:
    problems = mismatches(catalogue, publishing, consuming, link_routes)
    assert not problems, "the code and schemas/events.yaml disagree:\n" + "\n".join(problems)


def test_the_scan_finds_the_events_each_service_stages(publishing: list[Use]) -> None:
    found = {(use.service, use.event) for use in publishing}
    # One through a module constant, one written as a literal, one through an imported module.
    assert ("exercises", "PaymentCommited") in found
    assert ("exercises", "ManagerCreated") in found  # through a helper's parameter
    assert ("hiring", "BonusAdded") in found
    assert ("hiring", "ExerciseCompletedMoreThenTenTimes") in found
    assert not {use.service for use in publishing} - set(SERVICES)
    assert all(":" in use.where for use in publishing)


def test_the_subscriptions_are_read_from_each_services_bootstrap(consuming: list[Use]) -> None:
    found = {(use.service, use.event) for use in consuming}
    assert ("bonus", "BonusAdded") in found
    assert ("exercises", "ExerciseCompletedMoreThenTenTimes") in found
    assert ("hiring", "ManagerUpdated") in found


def test_the_links_that_call_instead_of_publishing_are_found(link_routes: list[Route]) -> None:
    found = {(route.service, route.event, route.receiver) for route in link_routes}
    assert ("exercises", "ExerciseUpdated", "hiring") in found
    assert ("hiring", "ExerciseCompletedMoreThenTenTimes", "exercises") in found
    assert ("hiring", "BonusAdded", "bonus") in found
    assert ("hiring", "FineAdded", "bonus") in found
    assert ("exercises", "PaymentCommited", "bonus") in found


# --- the comparison fails, and says what to fix --------------------------------------------------

CATALOGUE = {
    "BonusAdded": ("hiring", ("bonus",)),
    "ManagerCreated": ("exercises", ("hiring", "bonus")),
}
PUBLISHING = [
    Use("hiring", "BonusAdded", "hiring/handlers.py:1"),
    Use("exercises", "ManagerCreated", "exercises/handlers.py:2"),
]
CONSUMING = [
    Use("bonus", "BonusAdded", "consumer group bonus.money"),
    Use("hiring", "ManagerCreated", "consumer group hiring.managers"),
    Use("bonus", "ManagerCreated", "consumer group bonus.managers"),
]


def test_the_comparison_passes_on_agreeing_code_and_catalogue() -> None:
    assert mismatches(CATALOGUE, PUBLISHING, CONSUMING) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "publish an unlisted event",
            "hiring publishes BonusRemoved (x.py:9), which schemas/events.yaml does not list: "
            "add it there (producer: hiring)",
        ),
        (
            "publish another service's event",
            "bonus publishes BonusAdded (x.py:9), but schemas/events.yaml names hiring as its "
            "one producer",
        ),
        (
            "consume an unlisted event",
            "exercises subscribes to BonusRemoved (consumer group g), which "
            "schemas/events.yaml does not list",
        ),
        (
            "consume without being listed",
            "exercises subscribes to BonusAdded (consumer group g), but schemas/events.yaml "
            "does not list it among the consumers of BonusAdded: add exercises",
        ),
        (
            "list a producer that stages nothing",
            "schemas/events.yaml names hiring as the producer of BonusAdded, but nothing in "
            "src/teacher_hiring/hiring stages it",
        ),
        (
            "list a consumer that does not subscribe",
            "schemas/events.yaml lists bonus among the consumers of ManagerCreated, but no "
            "subscription of bonus handles it",
        ),
        (
            "list a producer that is no service",
            "schemas/events.yaml names payroll as the producer of Payday, which is not a service",
        ),
        (
            "route an event it never stages",
            "hiring routes FineAdded to bonus (links.py:3) but never stages it",
        ),
        (
            "route to a receiver that is not a consumer",
            "hiring sends BonusAdded to exercises over HTTP (links.py:3), but "
            "schemas/events.yaml does not list exercises among its consumers",
        ),
    ],
)
def test_the_comparison_fails_naming_what_to_fix(change: str, expected: str) -> None:
    catalogue = dict(CATALOGUE)
    publishing, consuming, link_routes = list(PUBLISHING), list(CONSUMING), []
    if change == "publish an unlisted event":
        publishing.append(Use("hiring", "BonusRemoved", "x.py:9"))
    elif change == "publish another service's event":
        publishing.append(Use("bonus", "BonusAdded", "x.py:9"))
    elif change == "consume an unlisted event":
        consuming.append(Use("exercises", "BonusRemoved", "consumer group g"))
    elif change == "consume without being listed":
        consuming.append(Use("exercises", "BonusAdded", "consumer group g"))
    elif change == "list a producer that stages nothing":
        publishing = [use for use in publishing if use.event != "BonusAdded"]
    elif change == "list a consumer that does not subscribe":
        consuming = [use for use in consuming if use.service != "bonus" or use.event[0] != "M"]
    elif change == "list a producer that is no service":
        catalogue["Payday"] = ("payroll", ())
    elif change == "route an event it never stages":
        link_routes.append(Route("hiring", "FineAdded", "bonus", "links.py:3"))
    else:
        link_routes.append(Route("hiring", "BonusAdded", "exercises", "links.py:3"))
    problems = mismatches(catalogue, publishing, consuming, link_routes)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


# --- the scan refuses what it cannot read --------------------------------------------------------


def _write_service(tmp_path: Path, source: str) -> None:
    package = tmp_path / "teacher_hiring" / "payroll"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handlers.py").write_text(textwrap.dedent(source))


@pytest.mark.parametrize(
    "source",
    [
        "def pay(uow, name):\n    uow.stage(name, {})\n",
        "def pay(uow):\n    uow.stage(f'Pay{1}', {})\n",
        "def pay(outbox, conn):\n    outbox.stage(conn, EVENTS['pay'], {})\n",
        "def again(outbox, conn, envelope):\n    outbox.stage_envelope(conn, envelope)\n",
    ],
)
def test_an_event_name_the_scan_cannot_read_is_an_error_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    import event_wiring

    _write_service(tmp_path, source)
    monkeypatch.setattr(event_wiring, "SRC", tmp_path)
    monkeypatch.setattr(event_wiring, "REPO", tmp_path)
    event_wiring._load.cache_clear()
    try:
        with pytest.raises(ScanError, match=r"teacher_hiring/payroll/handlers\.py:2: "):
            published("payroll")
    finally:
        event_wiring._load.cache_clear()


def test_a_stage_wrapper_is_skipped_and_a_helpers_callers_are_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import event_wiring

    _write_service(
        tmp_path,
        """
        PAID = "Paid"

        class UnitOfWork:
            def stage(self, event_name, payload):
                return self._outbox.stage(self.conn, event_name, payload)

        def pay(uow):
            uow.stage(PAID, {})
            uow.stage(event_name="Refunded", payload={})

        def _stage_account(uow, event_name, account):
            uow.stage(event_name, {"account": account})

        def open_account(uow):
            _stage_account(uow, "AccountOpened", 1)
            _stage_account(uow, event_name=PAID, account=2)
        """,
    )
    monkeypatch.setattr(event_wiring, "SRC", tmp_path)
    monkeypatch.setattr(event_wiring, "REPO", tmp_path)
    event_wiring._load.cache_clear()
    try:
        found = [(use.event, use.where.rsplit(":", 1)[1]) for use in published("payroll")]
        assert sorted(found) == [
            ("AccountOpened", "16"),
            ("Paid", "17"),
            ("Paid", "9"),
            ("Refunded", "10"),
        ]
    finally:
        event_wiring._load.cache_clear()


def test_a_constant_imported_from_another_module_is_resolved() -> None:
    call = ast.parse("events.PAYMENT_COMMITED", mode="eval").body
    module = "teacher_hiring.exercises.service_layer.handlers"
    assert resolve(module, call) == "PaymentCommited"
