"""Fault injection: a seeded share of API requests fails the ways real networks and servers do.

Faults never change data, so a retried request gets exactly what it would have got.
"""

import threading
from random import Random

FAULT_KINDS = ("500", "503", "429", "slow", "drop")


class DropConnection(Exception):  # noqa: N818 - it is a signal to the server, not an error
    """Raised by the app to make the server close the socket without any response."""


class FaultInjector:
    def __init__(
        self,
        rate: float = 0.0,
        *,
        seed: int = 0,
        kinds: tuple[str, ...] = FAULT_KINDS,
        slow_delay: float = 2.0,
        retry_after: int = 1,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be among {FAULT_KINDS}")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.slow_delay = slow_delay
        self.retry_after = retry_after
        self._rng = Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        """The fault for the next request, or None. Two draws per request keep the sequence
        independent of which kinds are enabled."""
        if self.rate <= 0.0:
            return None
        with self._lock:
            hit = self._rng.random() < self.rate
            kind = self.kinds[self._rng.randrange(len(self.kinds))]
        return kind if hit else None
