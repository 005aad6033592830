"""The operators' live figures: read from a service's metrics, rates from two readings."""

from __future__ import annotations

from teacher_hiring.web.live import Rates, parse_metrics

METRICS = """\
# HELP outbox_backlog Outbox rows not yet relayed
# TYPE outbox_backlog gauge
outbox_backlog{service="hiring"} 7.0
# HELP consumer_lag Records not yet committed
# TYPE consumer_lag gauge
consumer_lag{consumer="hiring.exercises",service="hiring",topic="exercises"} 3.0
consumer_lag{consumer="hiring.managers",service="hiring",topic="managers"} 2.0
consumer_lag{consumer="hiring.exercises",service="hiring",topic="candidates"} -1.0
consumer_lag{consumer="bonus.money",service="bonus",topic="money"} 40.0
# HELP dead_letters_pending Dead letters of the service's consumers
# TYPE dead_letters_pending gauge
dead_letters_pending{service="hiring",topic="exercises"} 1.0
"""


def test_a_services_figures_are_its_own_samples_summed() -> None:
    state = parse_metrics(METRICS, "hiring")

    assert state.up is True
    assert state.outbox_backlog == 7
    assert state.consumer_lag == 5  # bonus's samples and an unknown lag (-1) left out
    assert state.lag_by_topic == {"exercises": 3, "managers": 2}
    assert state.dead_letters == {"exercises": 1}


def test_a_service_without_messaging_metrics_has_no_backlog_and_no_lag() -> None:
    state = parse_metrics("", "web")
    assert (state.outbox_backlog, state.consumer_lag) == (None, 0)


def test_events_per_second_come_from_two_readings() -> None:
    now = [100.0]
    rates = Rates(clock=lambda: now[0])

    assert rates.update({"money": 10}) == {"money": None}
    now[0] = 102.0
    assert rates.update({"money": 30, "managers": 4}) == {"money": 10.0, "managers": None}
    now[0] = 104.0
    assert rates.update({"money": 30, "managers": 8}) == {"money": 0.0, "managers": 2.0}
