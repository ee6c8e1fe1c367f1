"""Benchmark: the teacher sync pages on the imported `district` sandbox on PostgreSQL.

Uses the district that bench/import_bench.py imported (it never changes it): signs in the
teacher of the largest course (most grades) and loads, through Django's test client, that
course's sync page and the progress JSON of a finished run of it (a run made up here, once, as
large as a passback of the whole course: an outcome per synced assignment and section and one
per student grade), the median of 20 loads each. Also counts the SQL queries of each page on
the largest and the smallest course, which must be the same. Prints and appends to
bench/RESULTS.md.
Usage: .venv/bin/python bench/teacher_bench.py [--loads 20]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from bench.common import append_results, setup_django  # noqa: E402

BENCH_RUN = "teacher_bench"  # requested_by of the made-up run, so a re-run reuses it


def courses_by_size() -> list[int]:
    """Courses with something set to sync, largest first (grades, then synced assignments)."""
    from django.db.models import Count, Exists, OuterRef, Q

    from courses.models import Assignment, Course, Enrollment

    synced = Assignment.objects.filter(course_id=OuterRef("canvas_id"), post_to_sis=True)
    taught = Enrollment.objects.filter(
        course_id=OuterRef("canvas_id"), type="teacher", state="active", deleted=False
    )
    return list(
        Course.objects.filter(Exists(synced), Exists(taught), deleted=False)
        .annotate(
            grades=Count("submissions", filter=Q(submissions__deleted=False)),
        )
        .order_by("-grades", "canvas_id")
        .values_list("canvas_id", flat=True)
    )


def teacher_client(course_id: int):
    """A test client signed in as the course's teacher (a Canvas sign-in without tokens)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from courses.models import Enrollment
    from teachers.models import CanvasLogin

    person_id = (
        Enrollment.objects.filter(course_id=course_id, type="teacher", state="active")
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    login = CanvasLogin.objects.filter(person_id=person_id).select_related("user").first()
    if login is None:
        user, _ = get_user_model().objects.get_or_create(username=f"bench-teacher-{person_id}")
        login = CanvasLogin.objects.create(user=user, person_id=person_id)
    client = Client()
    client.force_login(login.user)
    return client


def bench_run(course_id: int) -> tuple[int, int, int]:
    """A finished run of the whole course (made once): (run id, line items, grades)."""
    from django.db import transaction
    from django.utils import timezone

    from courses.models import Assignment, Enrollment, Section
    from sync.models import AssignmentOutcome, GradeOutcome, SyncRun

    run = SyncRun.objects.filter(course_id=course_id, requested_by=BENCH_RUN).first()
    if run is None:
        now = timezone.now()
        with transaction.atomic():
            run = SyncRun.objects.create(
                course_id=course_id,
                status=SyncRun.Status.DONE,
                requested_by=BENCH_RUN,
                requested_at=now,
                started_at=now,
                finished_at=now,
            )
            sections = list(
                Section.objects.filter(course_id=course_id, deleted=False).values_list(
                    "canvas_id", flat=True
                )
            )
            outcomes = AssignmentOutcome.objects.bulk_create(
                AssignmentOutcome(
                    run=run,
                    assignment_id=a,
                    section_id=s,
                    status="synced",
                    line_item_sourced_id=f"gpb-a{a}-s{s}",
                )
                for a in Assignment.objects.filter(
                    course_id=course_id, post_to_sis=True, deleted=False
                ).values_list("canvas_id", flat=True)
                for s in sections
            )
            students: dict[int, list[int]] = {}
            for section_id, person_id in Enrollment.objects.filter(
                course_id=course_id, type="student", state="active", deleted=False
            ).values_list("section_id", "person_id"):
                students.setdefault(section_id, []).append(person_id)
            kinds = [
                ("posted", ""),
                ("unchanged", "same_as_sent"),
                ("skipped", "no_grade"),
                ("posted", ""),
                ("failed", "sis_rejected"),
            ]
            GradeOutcome.objects.bulk_create(
                (
                    GradeOutcome(
                        run=run,
                        assignment_outcome=o,
                        student_id=p,
                        result_sourced_id=f"{o.line_item_sourced_id}-u{p}",
                        status=kinds[n % len(kinds)][0],
                        reason=kinds[n % len(kinds)][1],
                        created_at=now,
                    )
                    for o in outcomes
                    for n, p in enumerate(students.get(o.section_id, []))
                ),
                batch_size=2000,
            )
    return run.pk, run.assignments.count(), run.grades.count()


READ_TABLES = (
    "courses_course",
    "courses_section",
    "courses_person",
    "courses_enrollment",
    "courses_assignment",
    "courses_assignmentoverride",
    "courses_submission",
    "sync_violation",
    "sync_passbackstate",
    "sync_syncrun",
    "sync_assignmentoutcome",
    "sync_gradeoutcome",
)


def table_statistics() -> str:
    """ANALYZE the tables the pages read whose statistics autovacuum would renew by now (never
    analyzed, or changed by more than a tenth since): the bench server runs without autovacuum,
    which keeps them current in production. Only the planner's statistics change, never a row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND ("
            "(last_analyze IS NULL AND last_autoanalyze IS NULL) "
            "OR n_mod_since_analyze > 50 + 0.1 * n_live_tup)",
            [list(READ_TABLES)],
        )
        stale = sorted(row[0] for row in cursor.fetchall())
        if stale:
            cursor.execute("ANALYZE " + ", ".join(stale))
    return f"analyzed {', '.join(stale)}" if stale else "statistics current"


def median_ms(client, url: str, loads: int) -> float:
    client.get(url)  # warm caches and the connection
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def query_count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()

    setup_django()
    from django.urls import reverse

    from courses.models import Assignment, Course, Submission

    courses = courses_by_size()
    if len(courses) < 500:
        raise SystemExit(
            f"the benchmark database holds {Course.objects.count()} courses: import the "
            "district first (bench/import_bench.py)"
        )
    largest, smallest = courses[0], courses[-1]
    run_id, line_items, grade_outcomes = bench_run(largest)
    small_run_id, _, _ = bench_run(smallest)
    statistics_note = table_statistics()

    big, little = teacher_client(largest), teacher_client(smallest)
    course_url = reverse("teachers:course", args=[largest])
    progress_url = reverse("teachers:run_progress", args=[run_id])
    timings = {
        "course sync page": median_ms(big, course_url, args.loads),
        "progress JSON": median_ms(big, progress_url, args.loads),
        "progress page": median_ms(big, reverse("teachers:run", args=[run_id]), args.loads),
        "my courses": median_ms(big, reverse("teachers:home"), args.loads),
    }
    queries = {
        "course sync page": (
            query_count(big, course_url),
            query_count(little, reverse("teachers:course", args=[smallest])),
        ),
        "progress JSON": (
            query_count(big, progress_url),
            query_count(little, reverse("teachers:run_progress", args=[small_run_id])),
        ),
    }

    def size(course_id: int) -> str:
        grades = Submission.objects.filter(course_id=course_id, deleted=False).count()
        synced = Assignment.objects.filter(
            course_id=course_id, post_to_sis=True, deleted=False
        ).count()
        return f"course {course_id}: {synced} synced assignments, {grades:,} grades"

    lines = [
        f"- data: {Course.objects.count():,} courses; largest {size(largest)}; "
        f"smallest {size(smallest)}",
        f"- progress run #{run_id}: {line_items:,} line items, {grade_outcomes:,} grade outcomes",
        f"- planner statistics: {statistics_note}",
        f"- median of {args.loads} loads through the test client, as the course's teacher:",
        f"  - course sync page (largest course): **{timings['course sync page']:.0f} ms**"
        " (target 200 ms)",
        f"  - progress JSON: **{timings['progress JSON']:.0f} ms** (target 50 ms)",
        f"  - progress page (HTML): {timings['progress page']:.0f} ms",
        f"  - my courses: {timings['my courses']:.0f} ms",
        "- SQL queries per load, largest vs smallest course:",
        *[
            f"  - {label}: {big_n} vs {small_n}"
            + (" (same)" if big_n == small_n else " (**differs**)")
            for label, (big_n, small_n) in queries.items()
        ],
    ]
    append_results("teacher_bench (district, PostgreSQL)", lines)


if __name__ == "__main__":
    main()
