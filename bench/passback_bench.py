"""Benchmark: nightly district passback of the `district` sandbox to the simulated Infinite
Campus, on PostgreSQL, through the real task layer (django-q2 on Redis, `qcluster` workers).

Three nightly runs (`sync.tasks.passback_district`, as the schedule calls it): the first
(everything in the sync window is new), a second with nothing changed (must send nothing), and a
third after 1% of the posted grades changed as the hourly import writes them (new score,
`graded_at` and `imported_at` now; must send exactly those). Each is timed from the request until
every run it queued has finished. Then three first nightly runs, 5 s into each of which a
person asks for the busiest course: not in the nightly run and queued as a person's run is
(interactive lane, sync/lanes.py); in the nightly run, so the request joins its run and moves
what is left of it ahead; not in the nightly run and queued behind the nightly tasks, as every
run was before the lanes (the control). Each is timed from the person's request until their
run finished. Prints and appends to bench/RESULTS.md.
Usage: .venv/bin/python bench/passback_bench.py [--workers 4] [--concurrency 4] [--courses N]
(--courses limits the nightly run to the N courses with the most grades; default: every course.)
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REDIS_URL,
    SandboxProcess,
    Workers,
    append_results,
    setup_django,
)


def settle_after_import() -> None:
    """Wait until the last import's writes are older than IMPORT_MARGIN. Rows written that
    close to a plan count as possibly unseen by it (sync/passback_changes.py), so right after
    an import the no-change run would plan those courses again and not measure the skip."""
    from django.utils import timezone

    from sync.passback_changes import IMPORT_MARGIN, canvas_changed_at

    latest = max(canvas_changed_at().values(), default=None)
    if latest is None:
        return
    margin = IMPORT_MARGIN.total_seconds()
    wait = min((latest - timezone.now()).total_seconds() + margin, margin)  # a clock behind
    if wait > 0:
        print(f"waiting {wait:.0f} s: the last import wrote less than {IMPORT_MARGIN} ago")
        time.sleep(wait + 1)


def nightly(course_ids: list[int] | None) -> tuple[float, str, dict]:
    """Request the nightly run and wait until every run it queued is finished."""
    from django.db.models import Count, Max, Min

    from sync.models import GradeOutcome, SyncRun
    from sync.tasks import passback_district

    before = SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    message = passback_district(course_ids)
    while SyncRun.objects.filter(pk__gt=before, finished_at__isnull=True).exists():
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    runs = SyncRun.objects.filter(pk__gt=before)
    grades = dict(
        GradeOutcome.objects.filter(run__in=runs)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    sent = GradeOutcome.objects.filter(run__in=runs, status="posted").aggregate(
        first=Min("sent_at"), last=Max("sent_at")
    )
    if sent["first"] and sent["last"] > sent["first"]:
        grades["sending_s"] = round((sent["last"] - sent["first"]).total_seconds(), 1)
    grades["runs"] = runs.count()
    grades["runs_failed"] = runs.filter(status="failed").count()
    return elapsed, message, grades


def empty_passback() -> None:
    """Forget every run and what IC holds, so the next nightly run is a first one again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE sync_gradeoutcome, sync_assignmentoutcome, sync_syncrun, "
            "sync_passbackstate, sync_siscategory, sync_sisslot"
        )


def teacher_during_nightly(course_ids: list[int], teacher_course: int, lane: str) -> dict:
    """A first nightly run of every course but one; 5 s in, a person asks for that one.

    ``lane`` "interactive" is how a person's run is queued; "scheduled" queues it as the nightly
    runs are (first in, first out behind them), which is how every run was queued before the
    lanes: the control; "joined": the nightly run covers that course too, and the person's
    request joins its run there. Returns how long the person waited and how long the nightly
    run took.
    """
    from sync.models import SyncRun
    from sync.passback import passback_request
    from sync.tasks import passback_district

    empty_passback()
    started = time.perf_counter()
    passback_district([cid for cid in course_ids if lane == "joined" or cid != teacher_course])
    time.sleep(max(0.0, 5 - (time.perf_counter() - started)))
    asked = time.perf_counter()
    run, _ = passback_request(
        course_id=teacher_course, requested_by="bench teacher", scheduled=lane == "scheduled"
    )
    waited = None
    while SyncRun.objects.filter(finished_at__isnull=True).exists():
        if waited is None and SyncRun.objects.get(pk=run.pk).finished_at:
            waited = time.perf_counter() - asked
        time.sleep(0.1)
    if waited is None:
        waited = time.perf_counter() - asked
    run.refresh_from_db()
    return {
        "waited": waited,
        "nightly": time.perf_counter() - started,
        "status": run.status,
        "posted": run.grades.filter(status="posted").count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--courses", type=int, default=0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    os.environ["SIS_MAX_CONCURRENCY"] = str(args.concurrency)
    os.environ["REDIS_URL"] = REDIS_URL  # this process queues the tasks the workers run

    setup_django()
    import redis
    from django.conf import settings
    from django.db.models import Count, F, Q
    from django.utils import timezone

    from courses.models import Course, Submission
    from sync.models import GradeOutcome
    from sync.passback_changes import passback_courses

    if Course.objects.count() < 10:
        sys.exit("Import the district first: .venv/bin/python bench/import_bench.py")
    redis.Redis.from_url(REDIS_URL).flushdb()
    settle_after_import()
    empty_passback()
    scope, course_ids = "every course", None
    if args.courses:
        course_ids = list(
            Course.objects.filter(deleted=False, workflow_state="available")
            .annotate(n=Count("submissions", filter=Q(submissions__deleted=False)))
            .order_by("-n")
            .values_list("canvas_id", flat=True)[: args.courses]
        )
        scope = f"the {args.courses} busiest courses"

    with SandboxProcess(args.size, seed=args.seed) as sandbox:
        settings.SIS_BASE_URL = f"{sandbox.url}/ims/oneroster/gradebook/v1p2"
        settings.SIS_TOKEN_URL = f"{sandbox.url}/oauth/token"
        settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET = "sandbox-client", "sandbox-secret"
        workers = Workers(sandbox, args.workers, sis_concurrency=args.concurrency)
        try:
            first_s, first_msg, first = nightly(course_ids)
            second_s, second_msg, second = nightly(course_ids)

            # 1% of the grades the first run posted (every 100th with a score), changed as the
            # hourly import writes a regrade: new score, graded now, row written now.
            sent = GradeOutcome.objects.filter(status="posted", submission_canvas_id__isnull=False)
            scored = Submission.objects.filter(
                canvas_id__in=sent.values("submission_canvas_id"), score__isnull=False
            )
            changed_ids = sorted(scored.values_list("canvas_id", flat=True))[::100]
            now = timezone.now()
            Submission.objects.filter(canvas_id__in=changed_ids).update(
                score=F("score") + 1, graded_at=now, imported_at=now
            )
            third_s, third_msg, third = nightly(course_ids)
            posted_ids = set(
                GradeOutcome.objects.filter(
                    status="posted", run__requested_at__gte=now
                ).values_list("submission_canvas_id", flat=True)
            )

            # The busiest course, asked for by a person while the nightly run sends the rest.
            everything = course_ids or list(passback_courses())
            busiest = (
                Course.objects.filter(canvas_id__in=everything)
                .annotate(n=Count("submissions"))
                .order_by("-n")
                .values_list("canvas_id", flat=True)[0]
            )
            lanes = {
                lane: teacher_during_nightly(everything, busiest, lane)
                for lane in ("interactive", "joined", "scheduled")
            }
        finally:
            workers.stop()

    posted = first.get("posted", 0)
    exact = posted_ids == set(changed_ids)
    verdict = "exactly the changed ones" if exact else "NOT the changed ones"
    append_results(
        f"passback_bench ({args.size}, seed {args.seed}, {scope}, nightly district run, "
        f"{args.workers} qcluster workers on Redis, SIS_MAX_CONCURRENCY={args.concurrency}, "
        f"PostgreSQL)",
        [
            f"- first run: {posted:,} results posted in {first_s:.1f} s = "
            f"**{posted / first_s:,.0f} results/s** end to end (planning included); "
            f"between the first and the last result posted: "
            f"{posted / max(first.get('sending_s', first_s), 0.1):,.0f} results/s; "
            f"{first_msg}; outcomes: {first}",
            f"- no-change run: **{second_s:.2f} s**, results posted: "
            f"**{second.get('posted', 0)}**; {second_msg}",
            f"- after changing {len(changed_ids):,} grades (1% of those posted): "
            f"{third.get('posted', 0):,} results posted in {third_s:.1f} s "
            f"(**{verdict}**); {third_msg}",
            *(
                f"- a person asks for the busiest course (course {busiest}) 5 s into a first "
                f"nightly run {how}: their run finished **{m['waited']:.1f} s** after they asked "
                f"({m['status']}, {m['posted']:,} results posted); the nightly run took "
                f"{m['nightly']:.1f} s"
                for how, m in (
                    (
                        "of every other course, and their run is queued in the interactive lane "
                        "(as a person's run is)",
                        lanes["interactive"],
                    ),
                    (
                        "of every course, theirs included: they join its run, which moves what "
                        "is left of it to the interactive lane",
                        lanes["joined"],
                    ),
                    (
                        "of every other course, and their run is queued behind the nightly tasks "
                        "(as before the lanes: the control)",
                        lanes["scheduled"],
                    ),
                )
            ),
        ],
    )


if __name__ == "__main__":
    main()
