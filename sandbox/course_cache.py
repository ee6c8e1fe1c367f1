"""A small thread-safe LRU cache that builds each missing entry once, however many threads ask."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BuildOnceCache(Generic[Value]):
    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._items: OrderedDict[Hashable, Value] = OrderedDict()
        self._building: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, build: Callable[[], Value]) -> Value:
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
                pending = self._building.get(key)
                owner = pending is None
                if owner:
                    pending = self._building[key] = threading.Event()
            if owner:
                break
            # Paging clients often ask for several lists of one course at once: wait for the
            # build already running instead of generating the course twice.
            pending.wait()
        try:
            value = build()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._building[key]
            pending.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
