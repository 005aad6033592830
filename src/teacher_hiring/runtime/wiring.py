"""The platform's two wirings as modes of its links: `before` (the old one) and `after`.

`before` is the first document's "today" column: hiring reads the exercise from exercises to
check an answer (COMM-020), and calls exercises to report a leak (COMM-030) and bonus to credit
a bonus or debit a fine (COMM-040, 050) inside the candidate's submission; exercises calls
bonus to pay for complication work inside the manager's save (COMM-080). `after` is this
system's form: events and replicas. It is not another copy of the services: each preset only
sets the runtime flag of each link, and any link can still be switched on its own.

Exercise streaming is `push` in both: it did not exist in the old system (hiring read
exercises on demand), and `push` is the target form SPEC §4 chose; its event form is measured
on its own.

Which links can be switched, who holds each flag, the setting it starts from and its mode in
each preset are read from schemas/links.yaml (each link's `mode_flag`), the one place they are
written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict, cast

import httpx

from teacher_hiring.messaging.link_table import ModeFlag, load_links
from teacher_hiring.messaging.registry import SchemaRegistry

Wiring = Literal["before", "after"]

FIRST = "hiring"
"""The service whose links a preset switches first: with exercises down, `after` still takes
candidates off the old wiring before it fails at exercises' links."""


def mode_flags() -> dict[str, ModeFlag]:
    """The switchable links by name (`answer-check`, ...), in the order a preset applies them."""
    flags = [link.mode_flag for link in load_links(SchemaRegistry.load()) if link.mode_flag]
    flags.sort(key=lambda flag: flag.service != FIRST)
    return {flag.link_name: flag for flag in flags}


# Read on import: the files are package data, and the command line names the links in its help.
_FLAGS = mode_flags()

OWNERS: dict[str, str] = {name: flag.service for name, flag in _FLAGS.items()}
"""Which service produces (or, for a read, makes) each link, and so holds its flag."""

PRESETS: dict[str, dict[str, str]] = {
    wiring: {name: flag.preset(wiring) for name, flag in _FLAGS.items()}
    for wiring in ("before", "after")
}
"""Each wiring's mode of every link, applied in this order (FIRST's links first)."""


class OwnedLinkState(TypedDict):
    """A link's state as its owner's /operator/links answers it (operator_http.LinkState),
    with the owner's name."""

    link: str
    mode: str
    modes: list[str]
    event_name: str | None
    events: list[str]
    receiver: str
    description: str
    switched_at: float | None
    owner: str


def owned(answer: Any, owner: str) -> OwnedLinkState:
    """A link's state read from `owner`'s /operator/links (JSON), with the owner added."""
    return cast(OwnedLinkState, {**answer, "owner": owner})


class WiringFailed(RuntimeError):
    """A link could not be switched; `switched` are those that were, before it."""

    def __init__(self, message: str, switched: list[OwnedLinkState]) -> None:
        super().__init__(message)
        self.switched = switched


def setting_of(link: str) -> str:
    """The environment variable a link's mode starts from (EXERCISES_PAYMENT_LINK, ...)."""
    return _FLAGS[link].setting


def wiring_env(wiring: Wiring) -> dict[str, str]:
    """The settings that start fresh services in a wiring (flags an operator set win)."""
    return {setting_of(link): mode for link, mode in PRESETS[wiring].items()}


def apply(
    wiring: Wiring,
    urls: Mapping[str, str],
    *,
    auth: httpx.Auth | None = None,
    timeout_s: float = 5.0,
) -> list[OwnedLinkState]:
    """Switch every link to its mode in `wiring` through the owners' /operator/links.

    `urls` gives the base URL of exercises and hiring, `auth` an operator's token. Returns each
    link's new state with its `owner`; raises WiringFailed at the first link that could not be
    switched.
    """
    states: list[OwnedLinkState] = []
    with httpx.Client(timeout=timeout_s, auth=auth) as client:
        for link, mode in PRESETS[wiring].items():
            owner = OWNERS[link]
            url = f"{urls[owner].rstrip('/')}/operator/links/{link}"
            try:
                response = client.put(url, json={"mode": mode})
            except httpx.HTTPError as exc:
                raise WiringFailed(f"{url}: {exc}", states) from exc
            if response.status_code != 200:
                raise WiringFailed(
                    f"PUT {url}: HTTP {response.status_code}: {response.text[:300]}", states
                )
            states.append(owned(response.json(), owner))
    return states
