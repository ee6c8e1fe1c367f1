"""What the simulated Infinite Campus accepted: current lineItems and results, and a write log.

Kept small because a benchmark sends a district's million results through it: each accepted
object is stored as its deflated request body (under half its size as JSON, a tenth of its
size as Python dicts), and the append-only log is a handful of flat arrays. Thread-safe.
"""

import json
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

KINDS = ("lineItem", "result")
# Raw deflate with a 1 KB window and little memory: payloads are under a few KB, and setting up
# zlib's default 32 KB window and hash tables costs more than compressing a result.
WINDOW_BITS = -10
MEMORY_LEVEL = 2
ACTIONS = ("created", "updated", "deleted")
STATUS_OF = {"created": 201, "updated": 200, "deleted": 204}


def pack(body: bytes) -> bytes:
    deflate = zlib.compressobj(1, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL)
    return deflate.compress(body) + deflate.flush()


class MissingLineItem(LookupError):
    """A result refers to a lineItem the store does not hold (any more)."""


@dataclass(slots=True)
class Record:
    blob: bytes  # the accepted request body, deflated
    ref: str  # lineItem: its class's sourcedId; result: its lineItem's sourcedId
    writes: int  # accepted PUTs of this sourcedId so far
    updated: float  # wall-clock time of the last accepted PUT

    def body(self) -> dict:
        return json.loads(zlib.decompress(self.blob, WINDOW_BITS))


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    at: float
    kind: str
    sourced_id: str
    action: str
    writes: int

    def as_json(self) -> dict:
        return {
            "seq": self.seq,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.at))
            + f".{int(self.at % 1 * 1000):03d}Z",
            "kind": self.kind,
            "sourcedId": self.sourced_id,
            "action": self.action,
            "status": STATUS_OF[self.action],
            "writes": self.writes,
        }


class WriteLog:
    """Append-only; entry `seq` n is at index n - 1. About 25 bytes an entry."""

    def __init__(self) -> None:
        self._at = array("d")
        self._ids: list[str] = []
        self._codes = bytearray()  # kind index * 4 + action index
        self._writes = array("L")

    def __len__(self) -> int:
        return len(self._ids)

    def append(self, at: float, kind: int, sourced_id: str, action: int, writes: int) -> int:
        self._at.append(at)
        self._ids.append(sourced_id)
        self._codes.append(kind * 4 + action)
        self._writes.append(writes)
        return len(self._ids)

    def entries(self, since: int = 0, limit: int | None = None) -> Iterator[LogEntry]:
        stop = len(self._ids) if limit is None else min(len(self._ids), since + limit)
        for index in range(max(0, since), stop):
            kind, action = divmod(self._codes[index], 4)
            yield LogEntry(
                index + 1,
                self._at[index],
                KINDS[kind],
                self._ids[index],
                ACTIONS[action],
                self._writes[index],
            )


class GradebookStore:
    """Accepted lineItems and results by sourcedId, and the log of every accepted write.

    Reads for tests: `line_item(id)`, `result(id)` (the accepted object), `writes(kind, id)`,
    `results_of(line_item_id)`, `log_entries(since)`.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.line_items: dict[str, Record] = {}
        self.results: dict[str, Record] = {}
        self._by_line_item: dict[str, dict[str, None]] = {}  # lineItem -> its results, in order
        self._deleted_writes: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.log = WriteLog()

    # --- writes --------------------------------------------------------------------------------

    def put_line_item(self, sourced_id: str, class_id: str, body: bytes) -> tuple[bool, int]:
        """Stores an accepted lineItem; returns (created, writes so far)."""
        blob = pack(body)
        with self._lock:
            return self._put(0, self.line_items, sourced_id, class_id, blob)

    def put_result(self, sourced_id: str, line_item_id: str, body: bytes) -> tuple[bool, int]:
        """Stores an accepted result; MissingLineItem if its lineItem is gone."""
        blob = pack(body)
        with self._lock:
            if line_item_id not in self.line_items:
                raise MissingLineItem(line_item_id)
            previous = self.results.get(sourced_id)
            if previous is not None and previous.ref != line_item_id:
                self._by_line_item.get(previous.ref, {}).pop(sourced_id, None)
            self._by_line_item.setdefault(line_item_id, {})[sourced_id] = None
            return self._put(1, self.results, sourced_id, line_item_id, blob)

    def _put(
        self, kind: int, table: dict[str, Record], sourced_id: str, ref: str, blob: bytes
    ) -> tuple[bool, int]:
        now = self._clock()
        record = table.get(sourced_id)
        created = record is None
        if created:
            # A deleted and re-created object keeps counting: "writes" is per sourcedId.
            writes = self._deleted_writes[kind].pop(sourced_id, 0) + 1
            table[sourced_id] = Record(blob, ref, writes, now)
        else:
            writes = record.writes + 1
            record.blob, record.ref, record.writes, record.updated = blob, ref, writes, now
        self.log.append(now, kind, sourced_id, 0 if created else 1, writes)
        return created, writes

    def delete_line_item(self, sourced_id: str) -> list[str]:
        """Deletes a lineItem and its results; returns the deleted results' ids. KeyError if
        unknown."""
        with self._lock:
            record = self.line_items.pop(sourced_id)
            now = self._clock()
            self._deleted_writes[0][sourced_id] = record.writes
            self.log.append(now, 0, sourced_id, 2, record.writes)
            removed = list(self._by_line_item.pop(sourced_id, {}))
            for result_id in removed:
                result = self.results.pop(result_id)
                self._deleted_writes[1][result_id] = result.writes
                self.log.append(now, 1, result_id, 2, result.writes)
            return removed

    def delete_result(self, sourced_id: str) -> None:
        """KeyError if unknown."""
        with self._lock:
            record = self.results.pop(sourced_id)
            self._by_line_item.get(record.ref, {}).pop(sourced_id, None)
            self._deleted_writes[1][sourced_id] = record.writes
            self.log.append(self._clock(), 1, sourced_id, 2, record.writes)

    def clear(self) -> None:
        with self._lock:
            self.line_items = {}
            self.results = {}
            self._by_line_item = {}
            self._deleted_writes = ({}, {})
            self.log = WriteLog()

    # --- reads ---------------------------------------------------------------------------------

    def line_item(self, sourced_id: str) -> dict | None:
        record = self.line_items.get(sourced_id)
        return None if record is None else _object(record, "lineItem", sourced_id)

    def result(self, sourced_id: str) -> dict | None:
        record = self.results.get(sourced_id)
        return None if record is None else _object(record, "result", sourced_id)

    def writes(self, kind: str, sourced_id: str) -> int:
        """Accepted PUTs of that sourcedId since the last clear (deleted ones included)."""
        index = KINDS.index(kind)
        with self._lock:
            record = (self.line_items, self.results)[index].get(sourced_id)
            if record is not None:
                return record.writes
            return self._deleted_writes[index].get(sourced_id, 0)

    def results_of(self, line_item_id: str) -> list[str]:
        with self._lock:
            return list(self._by_line_item.get(line_item_id, ()))

    def result_ids(self) -> list[str]:
        with self._lock:
            return list(self.results)

    def line_item_ids(self, class_id: str | None = None) -> list[str]:
        with self._lock:
            return [
                sourced_id
                for sourced_id, record in self.line_items.items()
                if class_id is None or record.ref == class_id
            ]

    def log_entries(self, since: int = 0, limit: int | None = None) -> list[LogEntry]:
        with self._lock:
            return list(self.log.entries(since, limit))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "lineItems": len(self.line_items),
                "results": len(self.results),
                "log_entries": len(self.log),
            }


def _object(record: Record, kind: str, sourced_id: str) -> dict:
    """The stored object as accepted (1.1 clients may leave the sourcedId to the URL)."""
    item = record.body()[kind]
    item.setdefault("sourcedId", sourced_id)
    return item


class IcStats:
    """Counters for `GET /_ic/stats`: accepted and rejected writes by kind and status, reads,
    tokens, faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zero()

    def reset(self) -> None:
        with self._lock:
            self._zero()

    def _zero(self) -> None:
        self.requests = 0
        self.accepted: Counter[tuple[str, int]] = Counter()
        self.rejected: Counter[tuple[str, int]] = Counter()
        self.reads: Counter[tuple[str, int]] = Counter()
        self.tokens: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.throttled = 0

    def request(self) -> None:
        with self._lock:
            self.requests += 1

    def write(self, kind: str, status: int) -> None:
        with self._lock:
            (self.accepted if status < 300 else self.rejected)[kind, status] += 1

    def read(self, kind: str, status: int) -> None:
        with self._lock:
            self.reads[kind, status] += 1

    def token(self, outcome: str) -> None:
        with self._lock:
            self.tokens[outcome] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def throttle(self) -> None:
        with self._lock:
            self.throttled += 1

    def as_json(self) -> dict:
        with self._lock:
            return {
                "requests": self.requests,
                "accepted": _nested(self.accepted),
                "rejected": _nested(self.rejected),
                "reads": _nested(self.reads),
                "tokens": dict(self.tokens),
                "faults": dict(self.faults),
                "faults_injected": sum(self.faults.values()),
                "throttled": self.throttled,
            }


def _nested(counter: Counter[tuple[str, int]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (kind, status), count in sorted(counter.items()):
        nested.setdefault(kind, {})[str(status)] = count
    return nested
