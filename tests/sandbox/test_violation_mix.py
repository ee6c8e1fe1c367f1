"""The small district holds at least one instance of every GPB problem, and mostly clean work."""

import unicodedata
from collections import Counter, defaultdict

import pytest

from sandbox.generator import District
from sandbox.timestamps import REFERENCE_NOW

COMMON_GROUPS = {"Homework", "Quizzes", "Tests", "Projects", "Classwork"}
WEEK_BEFORE_NOW = "2026-11-08T12:00:00Z"


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def has_emoji(text: str) -> bool:
    return any(ord(char) >= 0x1F300 for char in text)


def survey(district: District) -> tuple[Counter, int, int]:
    """Counts every kind of problem (and edge case) in the district's data.

    Returns (counts, clean assignments, assignments in published courses).
    """
    found: Counter = Counter()
    clean = considered = 0
    for course_id in district.course_ids():
        data = district.course(course_id)
        course = data.course
        found[f"course_{course['workflow_state']}"] += 1
        section_sis = [s["sis_section_id"] for s in data.sections]
        if course["sis_course_id"] is None:
            found[
                "course_without_any_sis_id" if not any(section_sis) else "sis_only_on_sections"
            ] += 1
        students = [e for e in data.enrollments if e["type"] == "StudentEnrollment"]
        active = {e["course_section_id"] for e in students}
        found["inactive_section"] += sum(s["id"] not in active for s in data.sections)
        if any(section_sis) and any(s["sis_section_id"] is None for s in data.sections):
            found["section_without_sis_id"] += 1
        groups = {g["name"] for g in data.assignment_groups}
        found["unusual_group_name"] += len(groups - COMMON_GROUPS)
        found["common_group_name"] += len(groups & COMMON_GROUPS)
        found["student_without_sis_id"] += sum(e["user"]["sis_user_id"] is None for e in students)

        synced_names = Counter(
            a["name"].strip().lower() for a in data.assignments if a["post_to_sis"]
        )
        rows_of = defaultdict(list)
        for row in data.submissions:
            rows_of[row["assignment_id"]].append(row)
        term = course["term"]
        window = (course["start_at"] or term["start_at"], course["end_at"] or term["end_at"])
        for assignment in data.assignments:
            problems = _assignment_problems(assignment, synced_names, rows_of, window, active)
            found.update(problems)
            if course["workflow_state"] != "unpublished":
                considered += 1
                clean += not (problems - FINE)
        points_of = {a["id"]: a["points_possible"] for a in data.assignments}
        for row in data.submissions:
            points = points_of[row["assignment_id"]]
            found["excused"] += row["excused"]
            found["late"] += row["late"]
            found["missing"] += row["missing"]
            found["extra_credit"] += (
                row["score"] is not None and bool(points) and row["score"] > points
            )
            found[f"ungraded_{row['workflow_state']}"] += (
                row["score"] is None and not row["excused"]
            )
    return found, clean, considered


# Edge cases that are not rule violations.
FINE = {
    "section_override_with_own_due_date",
    "only_visible_to_all_overridden_sections",
    "only_visible_to_some_sections",
    "override_without_due_at_key",
    "course_override",
    "name_of_exactly_30",
    "short_name_over_30_bytes",
}


def _assignment_problems(assignment, synced_names, rows_of, window, active) -> set[str]:
    problems = set()
    name, due = assignment["name"], assignment["due_at"]
    if not assignment["published"]:
        problems.add("unpublished_assignment")
    if len(name) > 30:
        problems.add("name_too_long")
        if has_emoji(name):
            problems.add("long_name_with_emoji")
        if has_rtl(name):
            problems.add("long_name_right_to_left")
    elif len(name.encode()) > 30:
        problems.add("short_name_over_30_bytes")
    if len(name) == 30:
        problems.add("name_of_exactly_30")
    if assignment["post_to_sis"] and synced_names[name.strip().lower()] > 1:
        problems.add("duplicate_name")
    if not assignment["post_to_sis"]:
        problems.add("post_to_sis_false")
    if assignment["omit_from_final_grade"]:
        problems.add("omit_from_final_grade")
    if assignment["grading_type"] == "not_graded":
        problems.add("not_graded")
        if assignment["post_to_sis"]:
            problems.add("not_graded_but_synced")
    overrides = assignment["overrides"]
    for override in overrides:
        targets = {"course_section_id", "student_ids", "group_id", "course_id"} & override.keys()
        assert len(targets) == 1, override
        if "student_ids" in override:
            problems.add("student_override")
        if "group_id" in override:
            problems.add("group_override")
        if "course_id" in override:
            problems.add("course_override")
        if "due_at" not in override:
            problems.add("override_without_due_at_key")
        elif override["due_at"] is None:
            problems.add("override_due_at_null")
        elif "course_section_id" in override and override["due_at"] != due:
            problems.add("section_override_with_own_due_date")
    if assignment["only_visible_to_overrides"]:
        covered = {o["course_section_id"] for o in overrides if "course_section_id" in o}
        problems.add(
            "only_visible_to_all_overridden_sections"
            if active <= covered
            else "only_visible_to_some_sections"
        )
    if due is None and not overrides:
        problems.add("missing_due_date")
    if due is not None and not window[0] <= due <= window[1]:
        problems.add("due_outside_term")
    if due is not None and (
        (assignment["unlock_at"] and due < assignment["unlock_at"])
        or (assignment["lock_at"] and due > assignment["lock_at"])
    ):
        problems.add("due_outside_availability")
    rows = rows_of[assignment["id"]]
    if any(r["graded_at"] and r["posted_at"] is None for r in rows):
        problems.add("hidden_grades")
    graded = any(r["score"] is not None or r["excused"] for r in rows)
    if assignment["post_to_sis"] and due and due < WEEK_BEFORE_NOW and rows and not graded:
        problems.add("past_due_without_grades")
    return problems


EVERY_KIND = (
    "course_unpublished",
    "course_completed",
    "course_available",
    "course_without_any_sis_id",
    "sis_only_on_sections",
    "section_without_sis_id",
    "inactive_section",
    "unusual_group_name",
    "common_group_name",
    "student_without_sis_id",
    "unpublished_assignment",
    "name_too_long",
    "long_name_with_emoji",
    "long_name_right_to_left",
    "short_name_over_30_bytes",
    "name_of_exactly_30",
    "duplicate_name",
    "post_to_sis_false",
    "omit_from_final_grade",
    "not_graded",
    "not_graded_but_synced",
    "student_override",
    "group_override",
    "course_override",
    "override_without_due_at_key",
    "override_due_at_null",
    "section_override_with_own_due_date",
    "only_visible_to_all_overridden_sections",
    "only_visible_to_some_sections",
    "missing_due_date",
    "due_outside_term",
    "due_outside_availability",
    "hidden_grades",
    "past_due_without_grades",
    "excused",
    "late",
    "missing",
    "extra_credit",
    "ungraded_unsubmitted",
    "ungraded_submitted",
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_small_district_contains_every_kind_of_problem(seed):
    found, _, _ = survey(District("small", seed=seed))
    assert [kind for kind in EVERY_KIND if not found[kind]] == []


def test_most_assignments_are_clean(small_district):
    _, clean, considered = survey(small_district)
    assert 0.6 < clean / considered < 0.9


def test_grades_were_entered_over_the_last_sixty_days(small_district):
    stamps = sorted(
        row["graded_at"]
        for course_id in small_district.course_ids()
        if small_district.course(course_id).course["workflow_state"] == "available"
        for row in small_district.course(course_id).submissions
        if row["graded_at"]
    )
    now = REFERENCE_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stamps[0] >= "2026-09-15T12:00:00Z" and stamps[-1] <= now
    assert stamps[len(stamps) // 2] < "2026-11-01"  # spread out, not all at the end


def test_ungraded_rows_have_no_score_and_no_graded_at(small_district):
    for course_id in small_district.course_ids()[:10]:
        for row in small_district.course(course_id).submissions:
            if row["workflow_state"] in ("unsubmitted", "submitted"):
                assert row["score"] is None and row["graded_at"] is None
