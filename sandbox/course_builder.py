"""Builds one course's data (sections, groups, assignments, enrollments, grades) from its seed."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox import names
from sandbox.assignments import SectionRef, build_assignments
from sandbox.grades import build_submissions
from sandbox.layout import (
    ENROLLMENT_ID_BASE,
    FUTURE_TERM,
    GROUP_ID_BASE,
    SECTION_ID_BASE,
    CourseInfo,
    Layout,
)
from sandbox.timestamps import REFERENCE_EPOCH

LIST_NAMES = ("sections", "assignment_groups", "assignments", "enrollments", "submissions")
SECTION_COUNTS = (1, 2, 3, 4, 5)
SECTION_COUNT_WEIGHTS = (15, 20, 30, 20, 15)
UserLookup = Callable[[int], dict]
GROUP_SHARE = {"Homework": 4, "Quizzes": 3, "Tests": 1.5, "Projects": 1, "Classwork": 3}


@dataclass(slots=True)
class CourseData:
    """Everything the course endpoints serve, each list in id order."""

    course: dict
    sections: list[dict]
    assignment_groups: list[dict]
    assignments: list[dict]
    enrollments: list[dict]
    submissions: list[dict]
    malformed_assignments: bool = False
    regraded: dict[int, int] = field(default_factory=dict)  # grade round -> rows it changed
    keys: dict[str, list[int]] = field(default_factory=dict)
    _bare_assignments: list[dict] | None = None

    def index_keys(self) -> None:
        """Remember each row's id for paging, even if a corruption later removes the "id" key."""
        self.keys = {name: [row["id"] for row in getattr(self, name)] for name in LIST_NAMES}
        self.forget_views()

    def forget_views(self) -> None:
        self._bare_assignments = None

    def rows(self, name: str, *, overrides: bool = True) -> list[dict]:
        if name == "assignments" and not overrides:
            if self._bare_assignments is None:
                self._bare_assignments = [
                    {key: value for key, value in row.items() if key != "overrides"}
                    for row in self.assignments
                ]
            return self._bare_assignments
        return getattr(self, name)

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in LIST_NAMES}


def build_course(
    layout: Layout, info: CourseInfo, *, base_url: str, user: UserLookup, grades: bool = True
) -> CourseData:
    """`user(id)` returns a person's JSON (cached by the caller: people recur across courses).
    Without ``grades`` the course has no submissions (the simulated IC needs only the roster
    and the groups; grades, built last from their own random stream, are most of the work)."""
    rng = layout.rng(info.id, "structure")
    course_sis = info.json["sis_course_id"]
    traits = info.traits

    count = rng.choices(SECTION_COUNTS, SECTION_COUNT_WEIGHTS)[0]
    sizes = [rng.randint(5, 12) for _ in range(count)]
    if "inactive_section" in traits:
        sizes.append(0)  # a section nobody is enrolled in any more
    periods = sorted(rng.sample(range(1, 9), len(sizes)))
    pool = layout.student_pool(info.school)
    numbers = rng.sample(range(pool), sum(sizes))
    section_sis_base = course_sis or (
        f"{info.term.sis_term_id}-{layout.school_sis_id(info.school)}-{info.json['course_code']}"
    )
    missing_sis = rng.randrange(count) if "section_without_sis" in traits else -1

    sections, refs, roster = [], [], []
    for j, (size, period) in enumerate(zip(sizes, periods, strict=True)):
        section_id = SECTION_ID_BASE + info.index * 10 + j
        name = f"{info.json['course_code']} - Period {period}"
        sis = f"{section_sis_base}-P{period}"
        if "no_sis" in traits or j == missing_sis or (size == 0 and rng.random() < 0.5):
            sis = None
        sections.append(
            {
                "id": section_id,
                "course_id": info.id,
                "name": name,
                "sis_section_id": sis,
                "sis_course_id": course_sis,
                "start_at": None,
                "end_at": None,
                "nonxlist_course_id": None,
            }
        )
        refs.append(SectionRef(section_id, name, size > 0))
        start = sum(sizes[:j])
        for number in numbers[start : start + size]:
            roster.append((layout.student_id(info.school, number), section_id))

    groups, weights = _groups(layout, info, "unusual_groups" in traits)
    future = info.term is FUTURE_TERM
    assignment_count = rng.randint(0, 12) if future else rng.randint(32, 56)
    plan = build_assignments(
        layout.rng(info.id, "assignments"),
        course_id=info.id,
        index=info.index,
        count=assignment_count,
        groups=groups,
        group_weights=weights,
        topics=info.subject[2],
        window=info.window,
        sections=refs,
        student_ids=sorted(student for student, _ in roster),
        future_course=future,
        base_url=base_url,
    )
    enrollments = _enrollments(layout, info, sections, roster, user)
    submissions = (
        build_submissions(
            layout.rng(info.id, "grades"),
            index=info.index,
            assignments=plan.assignments,
            hidden_grades=plan.hidden_grades,
            no_grades=plan.no_grades,
            roster=roster,
            course_published=info.json["workflow_state"] != "unpublished",
            now=min(REFERENCE_EPOCH, info.term.end),
        )
        if grades
        else []
    )
    data = CourseData(
        course=info.json,
        sections=sections,
        assignment_groups=groups,
        assignments=plan.assignments,
        enrollments=enrollments,
        submissions=submissions,
    )
    data.index_keys()
    return data


def _groups(layout: Layout, info: CourseInfo, unusual: bool) -> tuple[list[dict], list[float]]:
    rng = layout.rng(info.id, "groups")
    chosen = sorted(rng.sample(range(len(names.COMMON_GROUPS)), rng.randint(3, 5)))
    group_names = [names.COMMON_GROUPS[g] for g in chosen]
    if unusual:
        group_names.append(rng.choice(names.UNUSUAL_GROUPS))
    weighted = rng.random() < 0.5
    groups = []
    for position, name in enumerate(group_names, start=1):
        groups.append(
            {
                "id": GROUP_ID_BASE + info.index * 10 + position - 1,
                "name": name,
                "position": position,
                "group_weight": 0.0,
            }
        )
    if weighted:
        shares = [GROUP_SHARE.get(group["name"], 1) for group in groups]
        total = sum(shares)
        for group, share in zip(groups, shares, strict=True):
            group["group_weight"] = round(100 * share / total, 1)
    weights = [GROUP_SHARE.get(group["name"], 1.5) for group in groups]
    return groups, weights


def _enrollments(
    layout: Layout,
    info: CourseInfo,
    sections: list[dict],
    roster: list[tuple[int, int]],
    user: UserLookup,
) -> list[dict]:
    """Teachers are enrolled in every section; students in one. Ids follow section order."""
    teachers = layout.teachers_of(info.index)
    by_section: dict[int, list[int]] = {}
    for student, section in roster:
        by_section.setdefault(section, []).append(student)
    rows = []
    next_id = ENROLLMENT_ID_BASE + info.index * 1000
    for section in sections:
        members = [(t, "TeacherEnrollment") for t in teachers]
        members += [(s, "StudentEnrollment") for s in by_section.get(section["id"], ())]
        for user_id, kind in members:
            rows.append(
                {
                    "id": next_id,
                    "user_id": user_id,
                    "course_id": info.id,
                    "course_section_id": section["id"],
                    "type": kind,
                    "role": kind,
                    "enrollment_state": "active",
                    "user": user(user_id),
                }
            )
            next_id += 1
    return rows
