"""What holds for every test of the session."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from teacher_hiring.chaos.broker import ScriptBroker

# The tests read the CLI's tables as text. A rich console takes its width from COLUMNS when it
# is created, at import, and pytest-xdist's workers set 80: cells then wrap inside the names
# the tests look for. One wide console for the whole session, however the tests are run.
os.environ["COLUMNS"] = "200"

# No secret is built in: the session makes one of its own, which every app, process and token
# of the tests uses (integration/credentials.py mints with it; a Deployment passes it on).
TEST_SECRET = os.environ.setdefault("TEACHER_HIRING_AUTH_SECRET", secrets.token_urlsafe(48))
for _prefix in ("EXERCISES_", "HIRING_", "BONUS_", "WEB_"):
    os.environ.setdefault(_prefix + "AUTH_SECRET", TEST_SECRET)


@pytest.fixture(scope="session")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScriptBroker]:
    """One secured broker (scripts/kafka.sh, sasl_ssl) per test process, for every test that
    only uses it: a start costs some 30 s of both cores. Each platform on it works under a
    topic prefix of its own. A test that stops, kills or pauses a broker starts its own."""
    from integration.kafka_broker import broker_of_its_own

    folder = tmp_path_factory.mktemp("secured") / "kafka"
    with broker_of_its_own(folder, security="sasl_ssl") as broker:
        yield broker
