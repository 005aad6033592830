"""The proxy's routes and its choice of upstream (runtime/proxy.py), without a socket."""

from __future__ import annotations

import pytest

from teacher_hiring.runtime.processes import SERVICES, Deployment
from teacher_hiring.runtime.proxy import Route, Upstreams, format_address, parse_address

A, B, C = ("127.0.0.1", 8712), ("127.0.0.1", 8722), ("127.0.0.1", 8732)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def firsts(upstreams: Upstreams, connections: int) -> list[tuple[str, int]]:
    return [upstreams.in_turn()[0] for _ in range(connections)]


def test_a_route_reads_as_it_is_written() -> None:
    route = Route.parse("127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722")

    assert route == Route(("127.0.0.1", 8702), (A, B))
    assert str(route) == "127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722"
    assert parse_address("[::1]:8702") == ("::1", 8702)
    assert format_address(("::1", 8702)) == "[::1]:8702"


@pytest.mark.parametrize(
    "text", ["127.0.0.1:8702", "127.0.0.1:8702=", "8702=127.0.0.1:8712", "host:port=host:1"]
)
def test_a_route_without_an_upstream_or_a_port_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Route.parse(text)


def test_connections_go_to_the_instances_in_turn() -> None:
    upstreams = Upstreams([A, B, C], retry_after_s=1.0)

    assert firsts(upstreams, 6) == [A, B, C, A, B, C]
    assert upstreams.in_turn() == [A, B, C]  # the rest in order, should the first refuse


def test_an_instance_that_refused_is_tried_last_until_its_pause_is_over() -> None:
    clock = Clock()
    upstreams = Upstreams([A, B], retry_after_s=1.0, clock=clock)

    upstreams.refused(B)
    assert firsts(upstreams, 4) == [A, A, A, A]
    assert upstreams.in_turn()[-1] == B  # still tried when A refuses too

    clock.now += 1.5
    assert set(firsts(upstreams, 2)) == {A, B}


def test_an_instance_that_accepts_again_is_back_in_turn_at_once() -> None:
    clock = Clock()
    upstreams = Upstreams([A, B], retry_after_s=60.0, clock=clock)
    upstreams.refused(A)

    upstreams.accepted(A)

    assert set(firsts(upstreams, 2)) == {A, B}


def test_the_distributed_deployment_gives_each_service_one_address_before_its_instances() -> None:
    deployment = Deployment(instances=dict.fromkeys(SERVICES, 2))

    assert [str(route) for route in deployment.routes()] == [
        "127.0.0.1:8701=127.0.0.1:8711,127.0.0.1:8721",
        "127.0.0.1:8702=127.0.0.1:8712,127.0.0.1:8722",
        "127.0.0.1:8703=127.0.0.1:8713,127.0.0.1:8723",
    ]
    env = deployment.env_for("exercises", 1)
    assert env["EXERCISES_PORT"] == "8721"
    assert env["EXERCISES_HIRING_URL"] == "http://127.0.0.1:8702"  # links use the one address
    assert env["HIRING_BONUS_URL"] == env["EXERCISES_BONUS_URL"] == "http://127.0.0.1:8703"


def test_a_service_alone_listens_on_its_own_address_with_no_proxy() -> None:
    deployment = Deployment(instances={"bonus": 2})

    assert [route.listen for route in deployment.routes()] == [("127.0.0.1", 8703)]
    assert deployment.env_for("hiring")["HIRING_PORT"] == "8702"
    assert deployment.instance_url("hiring") == deployment.url("hiring")
