"""Canvas's request throttle: a leaky bucket per access token.

Each request adds a pre-flight charge while it runs (so parallel requests fill the bucket
faster, as in Canvas) and its cost when it ends; the bucket drains at `leak_rate` units per
second. A request that finds the bucket full is refused with a `Retry-After`.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    remaining: float
    retry_after: int = 0


class LeakyBucket:
    def __init__(
        self,
        capacity: float = 700.0,
        leak_rate: float = 100.0,
        preflight: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.leak_rate = leak_rate
        self.preflight = preflight
        self._clock = clock
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, as of)
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        level, since = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - since) * self.leak_rate)

    def admit(self, key: str) -> Admission:
        with self._lock:
            now = self._clock()
            level = self._level(key, now)
            if level >= self.capacity or level + self.preflight > self.capacity:
                excess = level + self.preflight - self.capacity
                wait = excess / self.leak_rate if self.leak_rate > 0 else 60.0
                self._levels[key] = (level, now)
                return Admission(False, 0.0, min(60, max(1, math.ceil(wait))))
            level += self.preflight
            self._levels[key] = (level, now)
            return Admission(True, self.capacity - level)

    def settle(self, key: str, cost: float) -> float:
        """Swaps the request's pre-flight charge for its real cost; returns what remains."""
        with self._lock:
            now = self._clock()
            level = max(0.0, self._level(key, now) - self.preflight + cost)
            self._levels[key] = (level, now)
            return max(0.0, self.capacity - level)

    def remaining(self, key: str) -> float:
        with self._lock:
            return max(0.0, self.capacity - self._level(key, self._clock()))
