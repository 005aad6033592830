"""What a test does when a part it needs (a server, a document beside the repo) is missing.

On a developer's machine the test is skipped, saying why. In CI (CI=true) every part is there
by construction, so a missing one is a broken build: the test fails instead of passing
silently as a skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
