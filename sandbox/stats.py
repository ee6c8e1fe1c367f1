"""Counters of what the sandbox server did, for tests, benchmarks and `GET /_sandbox/stats`."""

import threading
from collections import Counter


class ServerStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # by path kind ("submissions", "courses", ...)
        self.statuses: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.throttled = 0
        self.items_served = 0

    def record(self, kind: str, status: int | str, items: int = 0) -> None:
        with self._lock:
            self.requests[kind] += 1
            self.statuses[str(status)] += 1
            self.items_served += items

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def record_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.faults.clear()
            self.throttled = 0
            self.items_served = 0

    def as_json(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "total_requests": sum(self.requests.values()),
                "statuses": dict(self.statuses),
                "faults": dict(self.faults),
                "faults_injected": sum(self.faults.values()),
                "throttled": self.throttled,
                "items_served": self.items_served,
            }
