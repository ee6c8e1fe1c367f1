"""The simulated Canvas district: deterministic data from (size, seed), plus mutations for tests.

Same size and seed give byte-identical JSON, always. Each course is generated on demand from
(seed, course id) and kept in a small LRU cache, so serving `large` needs no more memory than
`small`. Mutations live in a small overlay (see `sandbox.overlay`); `reset()` drops it.
"""

import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sandbox.course_builder import LIST_NAMES, CourseData, build_course
from sandbox.course_cache import BuildOnceCache
from sandbox.layout import Layout
from sandbox.overlay import (
    CORRUPTION_KINDS,
    GradeRound,
    Overlay,
    apply_to_course,
    apply_to_summary,
)
from sandbox.timestamps import REFERENCE_NOW, iso_ceil

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
ASSIGNMENT_CHANGE_KINDS = ("long_name", "toggle_post_to_sis", "clear_due_date", "toggle_published")


def wall_clock() -> datetime:
    return datetime.now(UTC)


class District:
    """A seeded district of one size. Thread-safe: the HTTP server reads it from many threads."""

    def __init__(
        self,
        size: str = "small",
        seed: int = 0,
        *,
        base_url: str = DEFAULT_BASE_URL,
        cache_size: int = 64,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.layout = Layout(size, seed)
        self.size = size
        self.seed = seed
        self.clock = clock
        self._base_url = base_url.rstrip("/")
        self._cache: BuildOnceCache[CourseData] = BuildOnceCache(cache_size)
        self._user = lru_cache(maxsize=4096)(self.layout.user)
        self._overlay = Overlay()
        self._mutation_lock = threading.Lock()
        self._assignment_change_calls = 0

    # --- reading -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        """Assignment `html_url`s point here; the server sets it to its own address."""
        self._base_url = value.rstrip("/")
        self._cache.clear()

    @property
    def overlay_version(self) -> int:
        return self._overlay.version

    def accounts(self) -> list[dict]:
        """Sub-accounts of the root account (regions, then schools), ordered by id."""
        return self.layout.accounts()

    def terms(self) -> list[dict]:
        return self.layout.terms()

    def course_ids(self) -> list[int]:
        return self.layout.course_ids()

    def has_course(self, course_id: int) -> bool:
        return self.layout.has_course(course_id)

    def course_summary(self, course_id: int) -> dict:
        """The course as the account courses list shows it (with "term"). KeyError if unknown."""
        return apply_to_summary(self.layout.course_info(course_id).json, self._overlay)

    def course(self, course_id: int) -> CourseData:
        """Everything the course's endpoints serve. KeyError if unknown. Do not modify."""
        return self._course(course_id, self._overlay)

    def course_list_sizes(self, course_id: int) -> dict[str, int]:
        """Items each list endpoint of the course returns (enrollments: students and teachers)."""
        return self.course(course_id).sizes()

    def totals(self, per_page: int = 100) -> dict[str, int]:
        """District-wide item counts and the fewest requests that can read them all.

        Generates every course once (a few seconds at `district` size). An empty list still
        costs one request, so each list counts max(1, ceil(items / per_page)).
        """
        counts = {
            "accounts": len(self.accounts()),
            "terms": len(self.terms()),
            "courses": len(self.course_ids()),
        }
        requests = sum(_pages(n, per_page) for n in counts.values())
        counts.update(dict.fromkeys(LIST_NAMES, 0))
        overlay = self._overlay
        for course_id in self.course_ids():
            for name, n in self._course(course_id, overlay, cache=False).sizes().items():
                counts[name] += n
                requests += _pages(n, per_page)
        counts["minimum_requests"] = requests
        return counts

    def _course(self, course_id: int, overlay: Overlay, *, cache: bool = True) -> CourseData:
        info = self.layout.course_info(course_id)
        base_url = self._base_url

        def build() -> CourseData:
            data = build_course(self.layout, info, base_url=base_url, user=self._user)
            return apply_to_course(data, overlay, self.layout.rng)

        if not cache:
            return build()
        return self._cache.get((course_id, overlay.version, base_url), build)

    # --- mutations -----------------------------------------------------------------------------

    def now_stamp(self) -> str:
        """The sandbox's "current time" for changes: the wall clock, rounded up to the second.

        Never earlier than the generated data's reference now, so changed grades always sort
        after the generated ones even on a machine whose clock is behind.
        """
        moment = max(self.clock(), REFERENCE_NOW + timedelta(minutes=1))
        return iso_ceil(moment)

    def change_grades(self, fraction: float) -> int:
        """Re-grades about `fraction` of graded submissions district-wide; returns how many.

        Every re-graded row gets a new score and graded_at = now. Counting generates each
        course once (a few seconds at `district` size).
        """
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        with self._mutation_lock:
            rounds = self._overlay.grade_rounds
            new_round = GradeRound(len(rounds) + 1, fraction, self.now_stamp())
            self._overlay = overlay = self._overlay.evolve(grade_rounds=(*rounds, new_round))
            return sum(
                self._course(course_id, overlay).regraded.get(new_round.number, 0)
                for course_id in self.course_ids()
            )

    def change_assignments(self, count: int) -> list[int]:
        """Edits `count` assignments (too-long names, post_to_sis toggled, due date cleared,
        published toggled), bumping their updated_at; returns their ids."""
        with self._mutation_lock:
            self._assignment_change_calls += 1
            rng = self.layout.rng("change_assignments", self._assignment_change_calls)
            overlay, stamp = self._overlay, self.now_stamp()
            changes = {cid: dict(rows) for cid, rows in overlay.assignment_changes.items()}
            ids = self.course_ids()
            chosen: list[int] = []
            for _ in range(count * 50):
                if len(chosen) >= count:
                    break
                course_id = ids[rng.randrange(len(ids))]
                assignments = self._course(course_id, overlay).assignments
                if not assignments:
                    continue
                assignment = assignments[rng.randrange(len(assignments))]
                if "id" not in assignment or assignment["id"] in chosen:
                    continue
                kind = ASSIGNMENT_CHANGE_KINDS[len(chosen) % len(ASSIGNMENT_CHANGE_KINDS)]
                change = _assignment_change(kind, assignment) | {"updated_at": stamp}
                course_changes = changes.setdefault(course_id, {})
                course_changes[assignment["id"]] = course_changes.get(assignment["id"], {}) | change
                chosen.append(assignment["id"])
            self._overlay = overlay.evolve(assignment_changes=changes)
            return chosen

    def update_assignment(self, course_id: int, assignment_id: int, fields: dict) -> dict:
        """Applies an edit made through the API (e.g. name, due_at); returns the assignment as
        every later read shows it. KeyError if the course or assignment is unknown."""
        with self._mutation_lock:
            self._require(course_id, "assignments", assignment_id)
            stamp = {"updated_at": self.now_stamp()}
            overlay = self._overlay
            changes = {cid: dict(rows) for cid, rows in overlay.assignment_changes.items()}
            course_changes = changes.setdefault(course_id, {})
            course_changes[assignment_id] = course_changes.get(assignment_id, {}) | fields | stamp
            self._overlay = overlay = overlay.evolve(assignment_changes=changes)
        return self._assignment(course_id, assignment_id, overlay)

    def update_override(
        self, course_id: int, assignment_id: int, override_id: int, fields: dict
    ) -> dict:
        """Applies an edit of one of the assignment's overrides; returns the override. The
        assignment's updated_at moves too. KeyError if any of the three is unknown."""
        with self._mutation_lock:
            overlay = self._overlay
            overrides = self._assignment(course_id, assignment_id, overlay).get("overrides", ())
            if not any(row.get("id") == override_id for row in overrides):
                raise KeyError(override_id)
            changed = {cid: dict(rows) for cid, rows in overlay.override_changes.items()}
            course_changed = changed.setdefault(course_id, {})
            course_changed[override_id] = course_changed.get(override_id, {}) | fields
            edits = {cid: dict(rows) for cid, rows in overlay.assignment_changes.items()}
            course_edits = edits.setdefault(course_id, {})
            stamp = {"updated_at": self.now_stamp()}
            course_edits[assignment_id] = course_edits.get(assignment_id, {}) | stamp
            self._overlay = overlay = overlay.evolve(
                override_changes=changed, assignment_changes=edits
            )
        overrides = self._assignment(course_id, assignment_id, overlay)["overrides"]
        return next(row for row in overrides if row["id"] == override_id)

    def assignment(self, course_id: int, assignment_id: int) -> dict:
        """One assignment (with its overrides) as served. KeyError if unknown. Do not modify."""
        return self._assignment(course_id, assignment_id, self._overlay)

    def _assignment(self, course_id: int, assignment_id: int, overlay: Overlay) -> dict:
        for row in self._course(course_id, overlay).assignments:
            if row.get("id") == assignment_id:
                return row
        raise KeyError(assignment_id)

    def delete_assignment(self, course_id: int, assignment_id: int) -> None:
        """The assignment and its submissions vanish from the API, as deleted items do in Canvas."""
        with self._mutation_lock:
            self._require(course_id, "assignments", assignment_id)
            deleted = dict(self._overlay.deleted_assignments)
            deleted[course_id] = deleted.get(course_id, frozenset()) | {assignment_id}
            self._overlay = self._overlay.evolve(deleted_assignments=deleted)

    def delete_section(self, course_id: int, section_id: int) -> None:
        """The section, its enrollments and its overrides vanish from the API."""
        with self._mutation_lock:
            self._require(course_id, "sections", section_id)
            deleted = dict(self._overlay.deleted_sections)
            deleted[course_id] = deleted.get(course_id, frozenset()) | {section_id}
            self._overlay = self._overlay.evolve(deleted_sections=deleted)

    def rename_section_sis(self, course_id: int, section_id: int, new_sis_id: str | None) -> None:
        with self._mutation_lock:
            self._require(course_id, "sections", section_id)
            renamed = {cid: dict(rows) for cid, rows in self._overlay.section_sis.items()}
            renamed.setdefault(course_id, {})[section_id] = new_sis_id
            self._overlay = self._overlay.evolve(section_sis=renamed)

    def corrupt_course(self, course_id: int, kind: str) -> None:
        """Makes the course's data bad in one way; see `CORRUPTION_KINDS`."""
        if kind not in CORRUPTION_KINDS:
            raise ValueError(f"unknown corruption {kind!r}; choose one of {CORRUPTION_KINDS}")
        with self._mutation_lock:
            self.layout.course_index(course_id)  # KeyError if unknown
            corruptions = dict(self._overlay.corruptions)
            corruptions[course_id] = corruptions.get(course_id, frozenset()) | {kind}
            self._overlay = self._overlay.evolve(corruptions=corruptions)

    def reset(self) -> None:
        """Drops every mutation: the district is as generated again."""
        with self._mutation_lock:
            self._overlay = Overlay(version=self._overlay.version + 1)
            self._assignment_change_calls = 0

    def _require(self, course_id: int, list_name: str, item_id: int) -> None:
        rows = self._course(course_id, self._overlay).keys[list_name]
        if item_id not in rows:
            raise KeyError(item_id)


def _assignment_change(kind: str, assignment: dict) -> dict:
    if kind == "long_name":
        return {"name": f"{assignment['name'].strip()} - revised for the new unit plan"}
    if kind == "toggle_post_to_sis":
        return {"post_to_sis": not assignment.get("post_to_sis", True)}
    if kind == "clear_due_date":
        return {"due_at": None}
    published = not assignment["published"]
    return {"published": published, "workflow_state": "published" if published else "unpublished"}


def _pages(items: int, per_page: int) -> int:
    return max(1, math.ceil(items / per_page))
