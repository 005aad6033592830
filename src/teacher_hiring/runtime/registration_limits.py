"""How many registrations are taken: per client address and from everyone, per window.

Used by hiring's `POST /candidates` and by the web pages' sign-up (docs/security.md,
"Registration limits"). Each process counts its own (foundation.rate_limits): with several
instances behind one address, the platform takes up to that many times the limits, and a
restart forgets the counts. The machine's own address is not counted per address (every
client of the platform's proxy, and the web pages' calls to hiring, come from it); the limit
on everyone still holds for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings

from teacher_hiring.foundation.rate_limits import Limit, Limiter, Refusal, counted_address

ALL = "all"


class RegistrationLimitSettings(BaseSettings):
    """A count of 0 turns that limit off (the benches, which register thousands at once)."""

    registrations_per_address: int = Field(
        10, ge=0, description="Registrations from one client address per window; 0: no limit"
    )
    registrations_per_address_window_s: float = Field(3600, gt=0)
    registrations_in_all: int = Field(
        600, ge=0, description="Registrations from everyone per window; 0: no limit"
    )
    registrations_in_all_window_s: float = Field(60, gt=0)


class RegistrationLimits:
    def __init__(
        self, settings: RegistrationLimitSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_address = Limit(
            settings.registrations_per_address, settings.registrations_per_address_window_s
        )
        self.in_all = Limit(settings.registrations_in_all, settings.registrations_in_all_window_s)
        self._limiter = Limiter(clock)

    def take(self, host: str | None) -> Refusal | None:
        """Count a registration from `host`; the refusal instead when a limit is reached."""
        keys = [(ALL, self.in_all)]
        address = counted_address(host)
        if address is not None:
            keys.append((f"address:{address}", self.per_address))
        return self._limiter.take(keys)


def refusal_message(refusal: Refusal) -> str:
    """What a refused registration is told: which limit, and when to try again."""
    who = "on the platform" if refusal.key == ALL else "from this address"
    return (
        f"registration: too many registrations {who} just now (at most {refusal.limit.count} "
        f"in {refusal.limit.window_s:g} seconds); try again in {refusal.retry_after_s} seconds"
    )
