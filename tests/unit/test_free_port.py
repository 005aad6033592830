"""A free port for a server about to start is drawn outside the range outgoing connections use."""

from __future__ import annotations

import socket

from teacher_hiring.foundation import ports


def test_the_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    first_ephemeral = ports._first_ephemeral()
    for _ in range(20):
        port = ports.free_port()
        assert 20_000 <= port < first_ephemeral
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_not_given() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert not ports._bindable("127.0.0.1", taken)
