"""Benchmark: passback of the district sandbox to the simulated Infinite Campus, on PostgreSQL.

Three runs over the same courses: the first (everything in the sync window is new), a second
with nothing changed (must send nothing), and a third after 1% of the grades changed (must send
exactly those). Prints and appends to bench/RESULTS.md.
Usage: .venv/bin/python bench/passback_bench.py [--courses N] [--concurrency 4]
(--courses limits the run to the N courses with the most grades; default: every course.)
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SandboxProcess, append_results, peak_rss_mb, setup_django  # noqa: E402


def run_all(course_ids: list[int]) -> tuple[float, dict]:
    from sync.models import SyncRun
    from sync.passback import passback_counts, passback_execute, passback_request

    totals: dict[str, int] = {}
    started = time.perf_counter()
    for course_id in course_ids:
        run, _ = passback_request(course_id=course_id, enqueue=False, requested_by="bench")
        run = passback_execute(run.pk)
        for status, n in passback_counts(run)["grades"].items():
            totals[status] = totals.get(status, 0) + n
        if run.status == SyncRun.Status.FAILED:
            totals["runs_failed"] = totals.get("runs_failed", 0) + 1
    return time.perf_counter() - started, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--courses", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    os.environ["SIS_MAX_CONCURRENCY"] = str(args.concurrency)

    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, F, Q
    from django.utils import timezone

    from courses.models import Course, Submission
    from sync.models import GradeOutcome

    if Course.objects.count() < 10:
        sys.exit("Import the district first: .venv/bin/python bench/import_bench.py")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE sync_gradeoutcome, sync_assignmentoutcome, sync_syncrun, "
            "sync_passbackstate, sync_siscategory"
        )
    courses = (
        Course.objects.filter(deleted=False, workflow_state="available")
        .annotate(n=Count("submissions", filter=Q(submissions__deleted=False)))
        .order_by("-n")
        .values_list("canvas_id", flat=True)
    )
    course_ids = list(courses[: args.courses] if args.courses else courses)

    with SandboxProcess(args.size, seed=args.seed) as sandbox:
        settings.SIS_MAX_CONCURRENCY = args.concurrency
        settings.SIS_BASE_URL = f"{sandbox.url}/ims/oneroster/gradebook/v1p2"
        settings.SIS_TOKEN_URL = f"{sandbox.url}/oauth/token"
        settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET = "sandbox-client", "sandbox-secret"

        first_s, first = run_all(course_ids)
        second_s, second = run_all(course_ids)

        # 1% of the grades the first run posted (every 100th): each one must go again, alone.
        sent = GradeOutcome.objects.filter(status="posted", submission_canvas_id__isnull=False)
        scored = Submission.objects.filter(
            canvas_id__in=sent.values("submission_canvas_id"), score__isnull=False
        )  # an excused grade has no score to change
        changed_ids = sorted(scored.values_list("canvas_id", flat=True))[::100]
        # A new score that always differs from the old one (an equal one would rightly stay
        # unchanged), graded now.
        Submission.objects.filter(canvas_id__in=changed_ids).update(
            score=F("score") + 1, graded_at=timezone.now()
        )
        GradeOutcome.objects.all().delete()  # keep the third run's outcomes apart
        third_s, third = run_all(course_ids)

    posted = first.get("posted", 0)
    exact = third.get("posted", 0) == len(changed_ids)
    verdict = "exactly the changed ones" if exact else "NOT the changed ones"
    scope = f"{len(course_ids)} courses" + ("" if not args.courses else " (the busiest)")
    append_results(
        f"passback_bench ({args.size}, seed {args.seed}, {scope}, "
        f"SIS_MAX_CONCURRENCY={args.concurrency}, PostgreSQL)",
        [
            f"- first run: {posted:,} results posted in {first_s:.1f} s = "
            f"**{posted / first_s:,.0f} results/s**; all grade outcomes: {first}",
            f"- no-change run: {second_s:.1f} s, results posted: **{second.get('posted', 0)}**; "
            f"outcomes: {second}",
            f"- after changing {len(changed_ids):,} grades (1% of those posted): "
            f"{third.get('posted', 0):,} results posted in {third_s:.1f} s "
            f"(**{verdict}**)",
            f"- peak memory of the passback process: {peak_rss_mb():.0f} MB",
        ],
    )


if __name__ == "__main__":
    main()
