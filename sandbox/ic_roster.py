"""What the simulated Infinite Campus knows: classes, their students and their categories.

IC is the SIS, so it knows the district *as generated*: every Canvas section with a
`sis_section_id` is a class, its students are the `sis_user_id`s of the section's active student
enrollments, and its categories mostly (not always) match the course's assignment group names.
Canvas-side mutations (`/_sandbox/...`) do not reach IC: a section renamed in Canvas points at a
class IC does not know, as it would in a real district.

Nothing is precomputed: a class id is parsed back to its course, which is built on demand and
kept in a bounded cache, so `large` costs no more than `small`.
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from sandbox import names
from sandbox.course_builder import build_course
from sandbox.course_cache import BuildOnceCache
from sandbox.generator import DEFAULT_BASE_URL, District
from sandbox.layout import COURSE_ID_BASE, TERMS
from sandbox.timestamps import iso

# Section SIS ids are "{term}-SCH{school:04d}-{subject}-{local:03d}-P{period}" (sandbox.layout
# and sandbox.course_builder); they lead straight back to the course.
CLASS_ID = re.compile(r"[0-9A-Z]+-SCH(\d{4})-[0-9A-Z]+-(\d{3,})-P\d+")

DROP_SHARE = 0.05  # share of a class's Canvas group names IC does not have at all
RENAME_SHARE = 0.05  # share IC spells differently
RENAMED = {
    "Homework": "Home Learning",
    "Quizzes": "Quiz Grades",
    "Tests": "Assessments",
    "Projects": "Project Work",
    "Classwork": "In-Class Work",
}
IC_ONLY_CATEGORIES = ("Uncategorized", "Final Exam")


@dataclass(frozen=True, slots=True)
class IcClass:
    sourced_id: str
    course_id: int
    section_id: int
    title: str
    school: str  # the school org's sourcedId (the Canvas sub-account's sis_account_id)
    students: frozenset[str]
    categories: tuple[dict, ...]  # OneRoster category objects, in IC's order
    category_ids: frozenset[str]

    def as_json(self) -> dict:
        return {
            "sourcedId": self.sourced_id,
            "title": self.title,
            "course_id": self.course_id,
            "section_id": self.section_id,
            "school": self.school,
            "students": sorted(self.students),
            "categories": list(self.categories),
        }


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "category"


class Roster:
    """Classes by sourcedId, derived from the district on demand. Thread-safe."""

    def __init__(self, district: District, cache_size: int = 2048) -> None:
        self.district = district
        self._layout = district.layout
        self._user = lru_cache(maxsize=8192)(self._layout.user)
        self._courses: BuildOnceCache[dict[str, IcClass]] = BuildOnceCache(cache_size)

    @cached_property
    def global_categories(self) -> tuple[dict, ...]:
        """District-wide categories (no `metadata.classId`), for `GET /categories`: 1.1
        categories are not section-specific (reference §1.7), so 1.1 clients read this list."""
        groups = [{"name": name} for name in names.COMMON_GROUPS]
        return self._categories("global", groups, iso(TERMS[0].start))

    def get(self, sourced_id: str) -> IcClass | None:
        course_id = self.course_of(sourced_id)
        if course_id is None:
            return None
        return self.classes_of_course(course_id).get(sourced_id)

    def course_of(self, sourced_id: str) -> int | None:
        match = CLASS_ID.fullmatch(sourced_id)
        if match is None:
            return None
        school, local = int(match.group(1)) - 1, int(match.group(2)) - 1
        schools = self._layout.size.schools
        if not 0 <= school < schools:
            return None
        course_id = COURSE_ID_BASE + local * schools + school
        return course_id if self._layout.has_course(course_id) else None

    def classes_of_course(self, course_id: int) -> dict[str, IcClass]:
        """The course's classes by sourcedId (empty for a course without SIS sections)."""
        return self._courses.get(course_id, lambda: self._build(course_id))

    def _build(self, course_id: int) -> dict[str, IcClass]:
        layout = self._layout
        info = layout.course_info(course_id)
        # The course as generated, without Canvas-side mutations (see the module docstring).
        data = build_course(layout, info, base_url=DEFAULT_BASE_URL, user=self._user, grades=False)
        school = layout.school_sis_id(info.school)
        stamp = iso(info.term.start)
        students: dict[int, set[str]] = {}
        for row in data.enrollments:
            sis = row["user"]["sis_user_id"]
            if row["type"] == "StudentEnrollment" and row["enrollment_state"] == "active" and sis:
                students.setdefault(row["course_section_id"], set()).add(sis)
        classes = {}
        for section in data.sections:
            sourced_id = section["sis_section_id"]
            if not sourced_id:
                continue
            categories = self._categories(sourced_id, data.assignment_groups, stamp)
            classes[sourced_id] = IcClass(
                sourced_id=sourced_id,
                course_id=course_id,
                section_id=section["id"],
                title=section["name"],
                school=school,
                students=frozenset(students.get(section["id"], ())),
                categories=categories,
                category_ids=frozenset(c["sourcedId"] for c in categories),
            )
        return classes

    def _categories(self, class_id: str, groups: list[dict], stamp: str) -> tuple[dict, ...]:
        rng = self._layout.rng("ic-categories", class_id)  # class_id "global": the 1.1 list
        titled: list[tuple[str, float]] = []
        for group in groups:
            title = group["name"]
            if title in names.UNUSUAL_GROUPS:
                continue  # teacher inventions: no SIS has them
            roll = rng.random()
            if roll < DROP_SHARE:
                continue
            if roll < DROP_SHARE + RENAME_SHARE:
                title = RENAMED.get(title, f"{title} (IC)")
            titled.append((title, float(group.get("group_weight") or 0.0)))
        titled += [(title, 0.0) for title in IC_ONLY_CATEGORIES]
        return tuple(
            {
                "sourcedId": f"cat-{class_id}-{slug(title)}",
                "status": "active",
                "dateLastModified": stamp,
                "title": title,
                "weight": weight,
            }
            for title, weight in titled
        )
