"""The GPB rule book: every rule's firing cases and near misses, plus properties over any input.

The factories build a clean, compliant course; each test changes one thing.
"""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.rules import (
    ASSIGNMENT,
    BLOCKING,
    COURSE,
    INFO,
    RULES,
    SECTION,
    SEVERITIES,
    WARNING,
    AssignmentIn,
    CourseIn,
    Finding,
    OverrideIn,
    Policy,
    SectionIn,
    active_sections,
    assigned_sections,
    blocking_scope,
    definitions,
    effective_due_at,
    evaluate_course,
    is_synced,
)

NOW = datetime(2025, 10, 20, 15, 0, tzinfo=UTC)
DUE = datetime(2025, 10, 3, 4, 59, tzinfo=UTC)  # Oct 2, 11:59 PM in US Central
TERM_START = datetime(2025, 8, 1, 5, 0, tzinfo=UTC)
TERM_END = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
CENTRAL = timezone(timedelta(hours=-5))
_ids = itertools.count(5000)


def section(canvas_id: int = 11, name: str = "Period 1", **changes) -> SectionIn:
    fields = {"sis_section_id": f"SEC-{canvas_id}", "active_students": 25, **changes}
    return SectionIn(canvas_id=canvas_id, name=name, **fields)


def override(
    target: str = "section", section_id: int | None = 11, due_at: datetime | None = DUE, **changes
) -> OverrideIn:
    fields = {"canvas_id": next(_ids), "due_at_overridden": True, **changes}
    return OverrideIn(target=target, section_id=section_id, due_at=due_at, **fields)


def assignment(canvas_id: int = 101, name: str = "Quiz 1", **changes) -> AssignmentIn:
    fields = {
        "published": True,
        "post_to_sis": True,
        "due_at": DUE,
        "unlock_at": None,
        "lock_at": None,
        "grading_type": "points",
        "omit_from_final_grade": False,
        "only_visible_to_overrides": False,
        "group_name": "Quizzes",
        "graded_count": 20,
        **changes,
    }
    return AssignmentIn(canvas_id=canvas_id, name=name, **fields)


def course(*assignments: AssignmentIn, **changes) -> CourseIn:
    fields = {
        "workflow_state": "available",
        "sis_course_id": "ALG1-2025",
        "term_start": TERM_START,
        "term_end": TERM_END,
        "start_at": None,
        "end_at": None,
        "sections": (section(11, "Period 1"), section(12, "Period 2")),
        "assignments": assignments or (assignment(),),
        "sis_categories": frozenset({"Homework", "Quizzes", "Tests"}),
        **changes,
    }
    return CourseIn(canvas_id=1, name="Algebra I", **fields)


def found(subject: CourseIn, rule: str, policy: Policy | None = None, now=NOW) -> list[Finding]:
    return [f for f in evaluate_course(subject, policy or Policy(), now) if f.rule == rule]


def rules_fired(subject: CourseIn, policy: Policy | None = None, now=NOW) -> set[str]:
    return {f.rule for f in evaluate_course(subject, policy or Policy(), now)}


def where(findings: list[Finding]) -> list[tuple[int | None, int | None]]:
    return [(f.assignment_id, f.section_id) for f in findings]


# The table and the policy


def test_the_rule_table_lists_the_sixteen_codes_in_the_documented_order():
    assert list(RULES) == [
        "course_unpublished",
        "course_not_in_sis",
        "section_not_in_sis",
        "assignment_unpublished",
        "name_too_long",
        "name_not_unique",
        "not_counted_in_final_grade",
        "differentiated",
        "missing_due_date",
        "due_date_varies",
        "due_date_outside_term",
        "due_date_outside_availability",
        "category_not_in_sis",
        "hidden_grades_will_sync",
        "no_grades_entered",
        "not_set_to_sync",
    ]


def test_severities_and_scopes_are_the_documented_ones():
    severities = {code: spec.default_severity for code, spec in RULES.items()}
    assert {c for c, s in severities.items() if s == WARNING} == {
        "due_date_outside_term",
        "due_date_outside_availability",
    }
    assert {c for c, s in severities.items() if s == INFO} == {
        "hidden_grades_will_sync",
        "no_grades_entered",
        "not_set_to_sync",
    }
    scopes = {code: spec.scope for code, spec in RULES.items()}
    assert {c for c, s in scopes.items() if s == COURSE} == {
        "course_unpublished",
        "course_not_in_sis",
    }
    assert {c for c, s in scopes.items() if s == SECTION} == {
        "section_not_in_sis",
        "missing_due_date",
        "due_date_varies",
        "due_date_outside_term",
    }


def test_every_rule_spec_has_its_code_a_title_and_a_one_sentence_description():
    for code, spec in RULES.items():
        assert spec.code == code
        assert spec.title and len(spec.title) <= 40
        assert spec.description.endswith(".") and spec.description.count(". ") == 0


def test_a_policy_with_severity_overrides_given_as_a_dict_stays_hashable_and_equal():
    first = Policy(severity={"name_too_long": WARNING}, disabled=["differentiated"])
    second = Policy(severity={"name_too_long": WARNING}, disabled={"differentiated"})

    assert first == second
    assert hash(first) == hash(second)
    assert first.severity["name_too_long"] == WARNING
    assert first.disabled == frozenset({"differentiated"})


def test_a_policy_rejects_a_severity_that_does_not_exist():
    with pytest.raises(ValueError, match="urgent"):
        Policy(severity={"name_too_long": "urgent"})


def test_a_disabled_rule_produces_nothing():
    subject = course(assignment(name="x" * 31))

    assert found(subject, "name_too_long")
    assert found(subject, "name_too_long", Policy(disabled=frozenset({"name_too_long"}))) == []


def test_a_severity_override_changes_the_reported_severity():
    subject = course(assignment(name="x" * 31))
    policy = Policy(severity={"name_too_long": INFO})

    assert [f.severity for f in found(subject, "name_too_long")] == [BLOCKING]
    assert [f.severity for f in found(subject, "name_too_long", policy)] == [INFO]


# Which assignments sync at all


def test_a_clean_course_has_no_findings():
    assert evaluate_course(course(), Policy(), NOW) == []


@pytest.mark.parametrize("changes", [{"deleted": True}, {"workflow_state": "deleted"}])
def test_an_assignment_in_a_deleted_course_is_not_synced_and_the_course_has_no_findings(changes):
    subject = course(assignment(name="x" * 50, published=False, due_at=None), **changes)

    assert not is_synced(subject.assignments[0], subject)
    assert evaluate_course(subject, Policy(), NOW) == []


def test_a_deleted_assignment_has_no_findings():
    subject = course(assignment(name="x" * 50, deleted=True, post_to_sis=False))

    assert evaluate_course(subject, Policy(), NOW) == []


def test_an_assignment_not_set_to_sync_gets_only_not_set_to_sync():
    subject = course(assignment(name="x" * 50, due_at=None, post_to_sis=False, group_name="Misc"))

    assert rules_fired(subject) == {"not_set_to_sync"}


# course_unpublished


def test_an_unpublished_course_with_a_synced_assignment_is_flagged_once_for_the_course():
    findings = found(course(assignment(101), assignment(102, "Quiz 2")), "course_unpublished")
    assert findings == []

    findings = found(
        course(assignment(101), assignment(102, "Quiz 2"), workflow_state="unpublished"),
        "course_unpublished",
    )
    assert where(findings) == [(None, None)]
    assert "2 synced assignments" in findings[0].message


def test_a_completed_course_counts_as_published():
    assert found(course(workflow_state="completed"), "course_unpublished") == []


def test_an_unpublished_course_without_synced_assignments_is_not_flagged():
    subject = course(assignment(post_to_sis=False), workflow_state="unpublished")

    assert found(subject, "course_unpublished") == []


# course_not_in_sis and section_not_in_sis


def _no_sis(*sections: SectionIn, **changes) -> CourseIn:
    return course(sis_course_id=None, sections=sections, **changes)


def test_a_course_without_any_sis_id_is_flagged_for_the_course_only():
    subject = _no_sis(section(11, sis_section_id=None), section(12, sis_section_id=None))

    assert where(found(subject, "course_not_in_sis")) == [(None, None)]
    assert found(subject, "course_not_in_sis")[0].message == (
        "This course has no SIS id (course or sections): ask the district to link it to "
        "Infinite Campus."
    )
    assert found(subject, "section_not_in_sis") == []


def test_one_section_sis_id_gives_the_course_a_sis_id_and_flags_the_other_section():
    subject = _no_sis(section(11), section(12, "Period 2", sis_section_id=None))

    assert found(subject, "course_not_in_sis") == []
    assert where(found(subject, "section_not_in_sis")) == [(None, 12)]
    assert "\u201cPeriod 2\u201d" in found(subject, "section_not_in_sis")[0].message


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_sis_id_counts_as_none(blank):
    subject = course(sis_course_id=blank, sections=(section(11, sis_section_id=blank),))

    assert rules_fired(subject) == {"course_not_in_sis"}


def test_a_deleted_sections_sis_id_does_not_give_the_course_a_sis_id():
    subject = _no_sis(section(11, sis_section_id=None), section(12, deleted=True))

    assert found(subject, "course_not_in_sis")


def test_a_course_without_sis_id_but_no_synced_assignment_is_not_flagged():
    subject = _no_sis(
        section(11, sis_section_id=None), assignments=(assignment(post_to_sis=False),)
    )

    assert evaluate_course(subject, Policy(), NOW) == []


def test_inactive_and_deleted_sections_without_sis_id_are_not_flagged():
    subject = course(
        sections=(
            section(11),
            section(12, sis_section_id=None, active_students=0),
            section(13, sis_section_id=None, deleted=True),
        )
    )

    assert found(subject, "section_not_in_sis") == []


# assignment_unpublished


def test_an_unpublished_synced_assignment_is_flagged():
    assert where(found(course(assignment(published=False)), "assignment_unpublished")) == [
        (101, None)
    ]
    assert found(course(assignment(published=True)), "assignment_unpublished") == []


# name_too_long


@pytest.mark.parametrize(
    ("name", "fires"),
    [
        ("x" * 30, False),
        ("x" * 31, True),
        ("\U0001f600" * 30, False),  # 120 bytes in UTF-8, 30 characters
        ("\U0001f600" * 31, True),
        ("\u00e9t\u00e9 " * 7 + "ab", False),  # accented letters are one character each
    ],
)
def test_names_are_measured_in_characters_against_the_limit(name, fires):
    assert bool(found(course(assignment(name=name)), "name_too_long")) is fires


def test_a_too_long_name_says_the_limit_and_the_current_length():
    findings = found(course(assignment(name="y" * 41)), "name_too_long")

    assert findings[0].message == "Shorten the name to 30 characters or fewer (now 41)."


def test_the_name_limit_comes_from_the_policy():
    subject = course(assignment(name="z" * 45))

    assert found(subject, "name_too_long", Policy(name_max_length=50)) == []
    assert found(subject, "name_too_long", Policy(name_max_length=44))


# name_not_unique


def test_names_equal_after_trimming_and_ignoring_case_flag_each_assignment():
    subject = course(assignment(101, "Quiz 1"), assignment(102, "  quiz 1 "), assignment(103, "Q2"))

    findings = found(subject, "name_not_unique")
    assert where(findings) == [(101, None), (102, None)]
    assert findings[0].message == (
        "Rename it: 2 synced assignments in this course are named \u201cQuiz 1\u201d."
    )


def test_three_assignments_sharing_a_name_are_counted_in_the_message():
    subject = course(*(assignment(100 + i, "Essay") for i in range(3)))

    assert [f.message.split(":")[1] for f in found(subject, "name_not_unique")] == [
        " 3 synced assignments in this course are named \u201cEssay\u201d."
    ] * 3


@pytest.mark.parametrize("other", [{"post_to_sis": False}, {"deleted": True}])
def test_a_name_shared_only_with_an_unsynced_assignment_is_unique(other):
    subject = course(assignment(101, "Quiz 1"), assignment(102, "Quiz 1", **other))

    assert found(subject, "name_not_unique") == []


# not_counted_in_final_grade


def test_an_assignment_omitted_from_the_final_grade_is_flagged():
    findings = found(course(assignment(omit_from_final_grade=True)), "not_counted_in_final_grade")

    assert where(findings) == [(101, None)]
    assert "final grade" in findings[0].message


def test_a_not_graded_assignment_is_flagged():
    findings = found(course(assignment(grading_type="not_graded")), "not_counted_in_final_grade")

    assert "Not graded" in findings[0].message


@pytest.mark.parametrize("grading", ["points", "percent", "letter_grade", "gpa_scale", "pass_fail"])
def test_graded_assignments_that_count_are_not_flagged(grading):
    assert found(course(assignment(grading_type=grading)), "not_counted_in_final_grade") == []


# differentiated


@pytest.mark.parametrize("target", ["students", "group"])
def test_an_override_for_students_or_a_group_differentiates(target):
    subject = course(assignment(overrides=(override(target, None, DUE + timedelta(days=2)),)))

    findings = found(subject, "differentiated")
    assert where(findings) == [(101, None)]
    assert ("individual students" if target == "students" else "for a group") in findings[0].message


def test_a_deleted_student_override_does_not_differentiate():
    subject = course(assignment(overrides=(override("students", None, deleted=True),)))

    assert evaluate_course(subject, Policy(), NOW) == []


def test_section_overrides_with_their_own_dates_are_not_differentiated():
    overrides = (override("section", 11, DUE), override("section", 12, DUE + timedelta(days=1)))

    assert evaluate_course(course(assignment(overrides=overrides)), Policy(), NOW) == []


def test_overrides_covering_every_active_section_need_no_base_due_date():
    overrides = (override("section", 11, DUE), override("section", 12, DUE))
    subject = course(
        assignment(due_at=None, only_visible_to_overrides=True, overrides=overrides),
        sections=(section(11), section(12, "Period 2"), section(13, "Empty", active_students=0)),
    )

    assert evaluate_course(subject, Policy(), NOW) == []


def test_an_assignment_given_to_some_whole_sections_only_is_fine_and_skips_the_others():
    subject = course(
        assignment(
            due_at=None, only_visible_to_overrides=True, overrides=(override("section", 11),)
        ),
        sections=(section(11), section(12, "Period 2", sis_section_id=None)),
    )

    assert [s.canvas_id for s in assigned_sections(subject.assignments[0], subject)] == [11]
    assert rules_fired(subject) == {"section_not_in_sis"}  # a course fact, not the assignment's


def test_an_everyone_override_is_not_differentiated_and_assigns_every_section():
    everyone = override("course", None, DUE)
    subject = course(assignment(due_at=None, only_visible_to_overrides=True, overrides=(everyone,)))

    assert [s.canvas_id for s in assigned_sections(subject.assignments[0], subject)] == [11, 12]
    assert evaluate_course(subject, Policy(), NOW) == []


# missing_due_date


def test_every_assigned_section_without_a_due_date_is_flagged():
    findings = found(course(assignment(due_at=None)), "missing_due_date")

    assert where(findings) == [(101, 11), (101, 12)]
    assert findings[1].message == "Set a due date for section \u201cPeriod 2\u201d (it has none)."


def test_an_override_that_does_not_set_the_due_date_leaves_the_base_date_in_force():
    keeps = override("section", 12, None, due_at_overridden=False)
    with_base = course(assignment(overrides=(keeps,)))
    without_base = course(assignment(due_at=None, overrides=(keeps,)))

    assert effective_due_at(with_base.assignments[0], with_base.sections[1]) == DUE
    assert found(with_base, "missing_due_date") == []
    assert where(found(without_base, "missing_due_date")) == [(101, 11), (101, 12)]


def test_an_override_that_sets_no_due_date_leaves_its_section_without_one():
    subject = course(assignment(overrides=(override("section", 12, None),)))

    findings = found(subject, "missing_due_date")
    assert where(findings) == [(101, 12)]
    assert "its section override removes the due date" in findings[0].message


def test_an_override_for_a_deleted_section_is_ignored():
    subject = course(
        assignment(overrides=(override("section", 13, None),)),
        sections=(section(11), section(12, "Period 2"), section(13, "Old", deleted=True)),
    )

    assert evaluate_course(subject, Policy(), NOW) == []


def test_a_section_without_active_students_gets_no_section_findings():
    subject = course(
        assignment(due_at=None, overrides=(override("section", 11, DUE),)),
        sections=(section(11), section(12, "Period 2", active_students=0, sis_section_id=None)),
    )

    assert [s.canvas_id for s in active_sections(subject)] == [11]
    assert evaluate_course(subject, Policy(), NOW) == []


def test_an_everyone_override_that_sets_the_due_date_stands_in_for_the_base_date():
    everyone = override("course", None, DUE)
    subject = course(assignment(due_at=None, overrides=(everyone,)))

    assert effective_due_at(subject.assignments[0], subject.sections[0]) == DUE
    assert found(subject, "missing_due_date") == []


def test_an_everyone_override_that_does_not_set_the_due_date_keeps_the_base_date():
    everyone = override("course", None, None, due_at_overridden=False)
    subject = course(assignment(overrides=(everyone,)))

    assert effective_due_at(subject.assignments[0], subject.sections[0]) == DUE


def test_a_section_override_wins_over_the_everyone_override():
    later = DUE + timedelta(days=3)
    overrides = (override("course", None, DUE), override("section", 12, later))
    subject = course(assignment(due_at=None, overrides=overrides))

    assert [effective_due_at(subject.assignments[0], s) for s in subject.sections] == [DUE, later]


# due_date_varies


def test_a_student_override_with_another_date_makes_the_due_date_vary_in_the_section():
    later = DUE + timedelta(days=2)
    subject = course(
        assignment(
            overrides=(override("students", None, later), override("students", None, later))
        ),
        sections=(section(12, "Period 2"),),
    )

    findings = found(subject, "due_date_varies")
    assert where(findings) == [(101, 12)]
    assert findings[0].message == (
        "Give every student in section \u201cPeriod 2\u201d the same due date: 2 student "
        "overrides differ from the section's date (Oct 3, 2025 4:59 AM)."
    )


def test_dates_in_messages_are_written_in_the_policys_zone():
    subject = course(
        assignment(overrides=(override("group", None, DUE + timedelta(days=1)),)),
        sections=(section(12, "Period 2"),),
    )

    message = found(subject, "due_date_varies", Policy(display_tz=CENTRAL))[0].message
    assert message.endswith(
        "1 group override differs from the section's date (Oct 2, 2025 11:59 PM)."
    )


def test_a_student_override_on_the_same_minute_does_not_vary_but_still_differentiates():
    same_minute = DUE.replace(second=42, microsecond=7)
    subject = course(assignment(overrides=(override("students", None, same_minute),)))

    assert found(subject, "due_date_varies") == []
    assert where(found(subject, "differentiated")) == [(101, None)]


def test_a_student_override_that_does_not_set_the_due_date_does_not_vary():
    other = override("students", None, None, due_at_overridden=False)

    assert found(course(assignment(overrides=(other,))), "due_date_varies") == []


def test_a_student_override_removing_the_due_date_varies_from_a_dated_section():
    subject = course(assignment(overrides=(override("students", None, None),)))

    assert where(found(subject, "due_date_varies")) == [(101, 11), (101, 12)]


def test_a_student_override_setting_a_date_in_a_section_without_one_says_so():
    subject = course(
        assignment(due_at=None, overrides=(override("students", None, DUE),)),
        sections=(section(11),),
    )

    assert found(subject, "due_date_varies")[0].message.endswith(
        "1 student override sets a due date though the section has none."
    )


def test_a_student_override_pinned_to_a_section_only_concerns_that_section():
    subject = course(assignment(overrides=(override("students", 12, DUE + timedelta(days=1)),)))

    assert where(found(subject, "due_date_varies")) == [(101, 12)]


def test_student_overrides_are_compared_with_each_sections_own_date():
    later = DUE + timedelta(days=1)
    overrides = (override("section", 12, later), override("students", None, later))

    assert where(found(course(assignment(overrides=overrides)), "due_date_varies")) == [(101, 11)]


def test_different_section_dates_are_fine_when_the_district_allows_them():
    overrides = (override("section", 12, DUE + timedelta(days=1)),)

    assert found(course(assignment(overrides=overrides)), "due_date_varies") == []


def test_different_section_dates_vary_for_the_assignment_when_the_district_forbids_them():
    overrides = (override("section", 12, DUE + timedelta(days=1)),)
    policy = Policy(allow_section_due_dates=False)

    findings = found(course(assignment(overrides=overrides)), "due_date_varies", policy)
    assert where(findings) == [(101, None)]
    assert "\u201cPeriod 1\u201d" in findings[0].message
    assert "2 different ones" in findings[0].message


def test_a_strict_district_also_reports_the_per_section_differences():
    overrides = (
        override("section", 12, DUE + timedelta(days=1)),
        override("students", 11, DUE + timedelta(days=4)),
    )
    policy = Policy(allow_section_due_dates=False)

    assert where(found(course(assignment(overrides=overrides)), "due_date_varies", policy)) == [
        (101, None),
        (101, 11),
    ]


def test_a_strict_district_accepts_section_overrides_repeating_the_base_date():
    overrides = (override("section", 12, DUE.replace(second=30)),)
    policy = Policy(allow_section_due_dates=False)

    assert found(course(assignment(overrides=overrides)), "due_date_varies", policy) == []


def test_a_strict_district_counts_a_section_without_a_date_as_different():
    overrides = (override("section", 12, None),)
    policy = Policy(allow_section_due_dates=False)

    findings = found(course(assignment(overrides=overrides)), "due_date_varies", policy)
    assert "no due date for \u201cPeriod 2\u201d" in findings[0].message


# due_date_outside_term


@pytest.mark.parametrize(
    ("due", "fires"),
    [
        (TERM_START - timedelta(minutes=1), True),
        (TERM_START, False),
        (TERM_END.replace(second=59), False),  # same minute as the end
        (TERM_END + timedelta(minutes=1), True),
    ],
)
def test_due_dates_are_checked_against_the_term_to_the_minute(due, fires):
    findings = found(course(assignment(due_at=due)), "due_date_outside_term")

    assert where(findings) == ([(101, 11), (101, 12)] if fires else [])
    assert all(f.severity == WARNING for f in findings)


def test_the_courses_own_dates_win_over_the_terms():
    course_end = datetime(2025, 12, 20, 6, 0, tzinfo=UTC)
    december = course(assignment(due_at=datetime(2026, 1, 10, tzinfo=UTC)), end_at=course_end)
    after_term = datetime(2026, 7, 1, tzinfo=UTC)
    summer = course(assignment(due_at=after_term), end_at=datetime(2026, 8, 1, tzinfo=UTC))

    findings = found(december, "due_date_outside_term")
    assert "after the course ends (Dec 20, 2025 6:00 AM)" in findings[0].message
    assert found(summer, "due_date_outside_term") == []


def test_a_course_start_date_replaces_only_the_terms_start():
    subject = course(
        assignment(due_at=TERM_END + timedelta(days=1)), start_at=TERM_START - timedelta(days=9)
    )

    assert "after the term ends" in found(subject, "due_date_outside_term")[0].message


def test_without_term_or_course_dates_nothing_is_outside_the_term():
    subject = course(assignment(due_at=datetime(2099, 1, 1, tzinfo=UTC)), term_start=None)

    assert found(replace(subject, term_end=None), "due_date_outside_term") == []
    assert found(subject, "due_date_outside_term")


def test_only_the_section_whose_override_leaves_the_term_is_flagged():
    overrides = (override("section", 12, TERM_END + timedelta(days=2)),)

    assert where(found(course(assignment(overrides=overrides)), "due_date_outside_term")) == [
        (101, 12)
    ]


# due_date_outside_availability


@pytest.mark.parametrize(
    ("window", "fires"),
    [
        ({"unlock_at": DUE + timedelta(minutes=1)}, True),
        ({"unlock_at": DUE}, False),
        ({"unlock_at": DUE.replace(second=30)}, False),  # later only by seconds
        ({"lock_at": DUE - timedelta(minutes=1)}, True),
        ({"lock_at": DUE}, False),
        ({"unlock_at": DUE - timedelta(days=3), "lock_at": DUE + timedelta(days=3)}, False),
    ],
)
def test_the_base_due_date_must_lie_inside_the_availability_window(window, fires):
    findings = found(course(assignment(**window)), "due_date_outside_availability")

    assert where(findings) == ([(101, None)] if fires else [])


def test_a_due_date_after_the_lock_date_says_which_end_it_misses():
    subject = course(assignment(lock_at=DUE - timedelta(days=1)))

    message = found(subject, "due_date_outside_availability")[0].message
    assert "after \u201cUntil\u201d (Oct 2, 2025 4:59 AM)" in message


def test_an_everyone_override_date_is_the_one_checked_against_the_availability_window():
    everyone = override("course", None, DUE + timedelta(days=2))
    subject = course(assignment(lock_at=DUE + timedelta(days=1), overrides=(everyone,)))

    assert where(found(subject, "due_date_outside_availability")) == [(101, None)]


def test_an_assignment_without_a_due_date_is_never_outside_its_availability():
    subject = course(assignment(due_at=None, lock_at=DUE))

    assert found(subject, "due_date_outside_availability") == []


# category_not_in_sis


def test_a_group_matching_no_sis_category_is_flagged_with_the_choices():
    findings = found(course(assignment(group_name="Misc")), "category_not_in_sis")

    assert where(findings) == [(101, None)]
    assert findings[0].message == (
        "Move it to an assignment group named like an Infinite Campus category "
        "(Homework, Quizzes, Tests); \u201cMisc\u201d matches none."
    )


def test_categories_match_trimmed_and_ignoring_case():
    subject = course(
        assignment(group_name="  QUIZZES "), sis_categories=frozenset({" quizzes", "Tests"})
    )

    assert found(subject, "category_not_in_sis") == []


def test_an_assignment_without_a_group_matches_no_category():
    findings = found(course(assignment(group_name=None)), "category_not_in_sis")

    assert "it is in no assignment group" in findings[0].message


@pytest.mark.parametrize("categories", [None, frozenset(), frozenset({"  "})])
def test_unknown_categories_flag_nothing(categories):
    subject = course(assignment(group_name="Misc"), sis_categories=categories)

    assert found(subject, "category_not_in_sis") == []


def test_an_unsynced_assignment_in_an_odd_group_is_not_flagged_for_its_category():
    subject = course(assignment(group_name="Misc", post_to_sis=False, published=False))

    assert found(subject, "category_not_in_sis") == []


# hidden_grades_will_sync


def test_hidden_graded_submissions_are_reported_as_info():
    findings = found(course(assignment(hidden_graded_count=3)), "hidden_grades_will_sync")

    assert [(f.assignment_id, f.severity) for f in findings] == [(101, INFO)]
    assert findings[0].message.startswith("3 graded submissions hidden")
    assert found(course(assignment(hidden_graded_count=0)), "hidden_grades_will_sync") == []


# no_grades_entered


@pytest.mark.parametrize(
    ("since_due", "fires"),
    [
        (timedelta(days=7), False),
        (timedelta(days=7, seconds=59), False),  # dates compare to the minute
        (timedelta(days=7, minutes=1), True),
        (timedelta(days=8), True),
    ],
)
def test_an_assignment_without_grades_is_reported_once_a_week_past_due(since_due, fires):
    subject = course(assignment(graded_count=0))

    assert bool(found(subject, "no_grades_entered", now=DUE + since_due)) is fires


def test_one_graded_or_excused_submission_is_enough():
    subject = course(assignment(graded_count=1))

    assert found(subject, "no_grades_entered", now=DUE + timedelta(days=30)) == []


def test_the_latest_section_due_date_counts():
    later = DUE + timedelta(days=5)
    subject = course(assignment(graded_count=0, overrides=(override("section", 12, later),)))

    assert found(subject, "no_grades_entered", now=DUE + timedelta(days=8)) == []
    assert found(subject, "no_grades_entered", now=later + timedelta(days=8))


def test_an_assignment_never_due_is_not_reported_for_missing_grades():
    subject = course(assignment(graded_count=0, due_at=None))

    assert found(subject, "no_grades_entered", now=NOW + timedelta(days=400)) == []


# not_set_to_sync


def test_a_published_graded_assignment_not_set_to_sync_is_reported_as_info():
    findings = found(course(assignment(post_to_sis=False)), "not_set_to_sync")

    assert [(f.assignment_id, f.severity) for f in findings] == [(101, INFO)]
    assert "Sync to SIS" in findings[0].message


@pytest.mark.parametrize(
    ("assignment_changes", "course_changes"),
    [
        ({"grading_type": "not_graded"}, {}),
        ({"omit_from_final_grade": True}, {}),
        ({"published": False}, {}),
        ({"deleted": True}, {}),
        ({}, {"sis_course_id": None, "sections": (section(11, sis_section_id=None),)}),
        ({}, {"deleted": True}),
    ],
)
def test_not_set_to_sync_near_misses(assignment_changes, course_changes):
    subject = course(assignment(post_to_sis=False, **assignment_changes), **course_changes)

    assert found(subject, "not_set_to_sync") == []


# The whole course, ordering and blocking


def test_findings_come_in_table_order_then_by_assignment_then_section():
    subject = course(
        assignment(102, "x" * 40, due_at=None),
        assignment(101, "y" * 40, due_at=None, published=False),
        workflow_state="unpublished",
    )

    assert [
        (f.rule, f.assignment_id, f.section_id) for f in evaluate_course(subject, Policy(), NOW)
    ] == [
        ("course_unpublished", None, None),
        ("assignment_unpublished", 101, None),
        ("name_too_long", 101, None),
        ("name_too_long", 102, None),
        ("missing_due_date", 101, 11),
        ("missing_due_date", 101, 12),
        ("missing_due_date", 102, 11),
        ("missing_due_date", 102, 12),
    ]


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_course(course(), Policy(), datetime(2025, 10, 20))


def test_blocking_scope_sorts_findings_by_what_they_stop():
    subject = course(
        assignment(101, "x" * 40),
        assignment(102, "Quiz 2", overrides=(override("section", 12, None),)),
        assignment(103, "Quiz 3", lock_at=DUE - timedelta(days=1)),
        sis_course_id=None,
        sections=(section(11), section(12, "Period 2", sis_section_id=None)),
    )
    scope = blocking_scope(evaluate_course(subject, Policy(), NOW))

    assert scope.rules_blocking(1, 101, 11) == ("name_too_long",)
    assert scope.rules_blocking(1, 101, 12) == ("section_not_in_sis", "name_too_long")
    assert scope.rules_blocking(1, 102, 11) == ()
    assert scope.rules_blocking(1, 102, 12) == ("section_not_in_sis", "missing_due_date")
    assert not scope.is_blocked(1, 103, 11)  # outside availability is only a warning


def test_a_course_rule_blocks_every_pair_unless_downgraded_by_policy():
    subject = course(workflow_state="unpublished")

    assert blocking_scope(evaluate_course(subject, Policy(), NOW)).is_blocked(1, 101, 11)
    relaxed = Policy(severity={"course_unpublished": WARNING})
    assert not blocking_scope(evaluate_course(subject, relaxed, NOW)).is_blocked(1, 101, 11)


# Properties over any input

ZONES = (UTC, CENTRAL, timezone(timedelta(hours=5, minutes=30)))
# Seconds since the epoch (1990..2100), so that dates collide often and carry stray seconds.
moments = st.builds(
    lambda seconds, zone: datetime.fromtimestamp(seconds, zone),
    st.integers(631_152_000, 4_102_444_800) | st.sampled_from([1_759_467_540, 1_759_467_599]),
    st.sampled_from(ZONES),
)
maybe_moment = st.none() | moments
rarely = st.sampled_from([False, False, False, True])  # deleted things, mostly not
WEIRD_NAMES = [
    "",
    " ",
    "Quiz 1",
    " quiz 1 ",
    "\U0001f600" * 31,
    "e\u0301" * 16,
    "\u05e9\u05dc\u05d5\u05dd\n\t",
]
weird_text = st.sampled_from(WEIRD_NAMES) | st.text(max_size=8)
section_ids = st.integers(1, 6)
sections = st.builds(
    SectionIn,
    canvas_id=section_ids,
    name=weird_text,
    sis_section_id=st.none() | st.sampled_from(["", " ", "SEC"]),
    active_students=st.integers(0, 2),
    deleted=rarely,
)
overrides = st.builds(
    OverrideIn,
    canvas_id=st.integers(1, 30),
    target=st.sampled_from(["section", "students", "group", "course", "noop"]),
    section_id=st.none() | st.integers(0, 8),
    due_at=maybe_moment,
    due_at_overridden=st.booleans(),
    deleted=rarely,
)
assignments = st.builds(
    AssignmentIn,
    canvas_id=st.integers(1, 12),
    name=weird_text,
    published=st.booleans(),
    post_to_sis=st.booleans(),
    due_at=maybe_moment,
    unlock_at=maybe_moment,
    lock_at=maybe_moment,
    grading_type=st.sampled_from(["points", "percent", "not_graded", "pass_fail", "weird"]),
    omit_from_final_grade=st.booleans(),
    only_visible_to_overrides=st.booleans(),
    group_name=st.none() | weird_text,
    overrides=st.just(()) | st.lists(overrides, min_size=1, max_size=4).map(tuple),
    graded_count=st.integers(0, 2),
    hidden_graded_count=st.integers(0, 2),
    deleted=rarely,
)
courses = st.builds(
    CourseIn,
    canvas_id=st.integers(1, 3),
    name=weird_text,
    workflow_state=st.sampled_from(["unpublished", "available", "completed", "deleted"]),
    sis_course_id=st.none() | st.sampled_from(["", "C-1"]),
    term_start=maybe_moment,
    term_end=maybe_moment,
    start_at=maybe_moment,
    end_at=maybe_moment,
    sections=st.just(()) | st.lists(sections, min_size=1, max_size=4).map(tuple),
    assignments=st.lists(assignments, min_size=1, max_size=4).map(tuple),
    sis_categories=st.none() | st.frozensets(weird_text, max_size=3),
    deleted=rarely,
)
policies = st.builds(
    Policy,
    name_max_length=st.integers(0, 40),
    allow_section_due_dates=st.booleans(),
    disabled=st.frozensets(st.sampled_from(list(RULES)), max_size=4),
    severity=st.dictionaries(st.sampled_from(list(RULES)), st.sampled_from(SEVERITIES), max_size=3),
)
# Drawing a nested course costs hypothesis ~20 ms, so the properties share few, rich examples.
many = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
some = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scope_is_right(f: Finding) -> bool:
    scope = RULES[f.rule].scope
    if scope == COURSE:
        return f.assignment_id is None and f.section_id is None
    if f.rule == "section_not_in_sis":
        return f.assignment_id is None and f.section_id is not None
    if f.rule == "due_date_varies":
        return f.assignment_id is not None  # a section, or the whole assignment when strict
    if scope == SECTION:
        return f.assignment_id is not None and f.section_id is not None
    assert scope == ASSIGNMENT
    return f.assignment_id is not None and f.section_id is None


@many
@given(courses, policies, moments)
def test_any_course_yields_well_formed_findings_about_synced_work_in_active_sections(
    subject, policy, now
):
    findings = evaluate_course(subject, policy, now)
    synced = {a.canvas_id for a in subject.assignments if is_synced(a, subject)}
    unsynced = {a.canvas_id for a in subject.assignments if not is_synced(a, subject)}
    active = {s.canvas_id for s in active_sections(subject)}

    for f in findings:
        assert f.rule in RULES and f.rule not in policy.disabled
        assert f.severity == policy.severity.get(f.rule, RULES[f.rule].default_severity)
        assert f.severity in SEVERITIES
        assert f.course_id == subject.canvas_id
        assert _scope_is_right(f), f
        assert f.message.strip()
        assert f.section_id is None or f.section_id in active
        if f.rule == "not_set_to_sync":
            assert f.assignment_id in unsynced
        elif f.assignment_id is not None:
            assert f.assignment_id in synced
    assert not {"course_not_in_sis", "section_not_in_sis"} <= {f.rule for f in findings}


@some
@given(courses, policies, moments)
def test_evaluation_is_deterministic_sorted_switchable_and_readable_as_blocking_scope(
    subject, policy, now
):
    findings = evaluate_course(subject, policy, now)

    assert evaluate_course(subject, policy, now) == findings
    order = [(list(RULES).index(f.rule), f.assignment_id or 0) for f in findings]
    assert order == sorted(order)
    assert evaluate_course(subject, Policy(disabled=frozenset(RULES)), now) == []
    scope = blocking_scope(findings)
    for f in findings:
        if f.assignment_id is not None and f.section_id is not None:
            blocked = f.rule in scope.rules_blocking(f.course_id, f.assignment_id, f.section_id)
            assert blocked is (f.severity == BLOCKING)


@some
@given(courses)
def test_assigned_sections_are_active_and_effective_dates_come_from_the_data(subject):
    active = active_sections(subject)
    for a in subject.assignments:
        assigned = assigned_sections(a, subject)
        assert set(assigned) <= set(active)
        if not a.only_visible_to_overrides:
            assert assigned == active
        dates = {a.due_at} | {o.due_at for o in a.overrides}
        assert all(effective_due_at(a, s) in dates for s in assigned)


_AWARE = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
    ),
)


@given(_AWARE, _AWARE)
def test_minute_numbers_compare_exactly_as_minutes_do(first, second):
    minute, number = definitions.to_minute, definitions.minute_of
    assert (number(first) < number(second)) == (minute(first) < minute(second))
    assert (number(first) == number(second)) == (minute(first) == minute(second))
    assert definitions.same_minute(first, second) == (minute(first) == minute(second))


def test_a_minute_number_needs_a_timezone():
    with pytest.raises(ValueError, match="timezone-aware"):
        definitions.minute_of(datetime(2026, 1, 1, 12, 0))
