"""An in-memory Infinite Campus (OneRoster client interface), for passback logic tests."""

import threading
from collections import Counter

from sync.oneroster import OneRosterError, Sent


class FakeSis:
    def __init__(self, categories: dict[str, list[str]] | None = None) -> None:
        self.category_titles = categories or {}
        self.line_items: dict[str, dict] = {}
        self.results: dict[str, dict] = {}
        self.writes: Counter = Counter()
        self.fail: dict[str, OneRosterError] = {}
        self.fail_everything: OneRosterError | None = None
        self.crash_after: int | None = None
        self.requests_made = 0
        self._lock = threading.Lock()

    def categories(self, class_sourced_id: str) -> list[dict]:
        titles = self.category_titles.get(class_sourced_id, [])
        return [
            {"sourcedId": f"cat-{class_sourced_id}-{t.lower()}", "title": t, "status": "active"}
            for t in titles
        ]

    def _write(self, store: dict, sourced_id: str, body: dict) -> Sent:
        with self._lock:
            self.requests_made += 1
            if self.crash_after is not None and sum(self.writes.values()) >= self.crash_after:
                raise KeyboardInterrupt("worker killed")
            if self.fail_everything is not None:
                raise self.fail_everything
            if sourced_id in self.fail:
                raise self.fail[sourced_id]
            created = sourced_id not in store
            store[sourced_id] = body
            self.writes[sourced_id] += 1
            return Sent(status=201 if created else 200, attempts=1)

    def put_line_item(self, sourced_id: str, line_item: dict) -> Sent:
        return self._write(self.line_items, sourced_id, line_item)

    def get_result(self, sourced_id: str) -> dict | None:
        with self._lock:
            self.requests_made += 1
            return self.results.get(sourced_id)

    def put_result(self, sourced_id: str, result: dict) -> Sent:
        return self._write(self.results, sourced_id, result)

    def close(self) -> None:
        pass

    def __enter__(self) -> "FakeSis":
        return self

    def __exit__(self, *exc: object) -> None:
        pass
