"""Benchmark: full import of the `district` sandbox on PostgreSQL, then an incremental one.

Measures both ways an import runs: as `manage.py import_canvas` does (one process, courses on
threads) and as the schedule does (one django-q2 task per course, run by `qcluster` workers on
Redis). Each way starts from an empty database and a freshly started sandbox, so neither gains
from the other's caches. Each run is timed until it is closed, its rules checked.

Prints and appends to bench/RESULTS.md: grade rows per second, HTTP requests versus the minimum
possible (the sum over every list of ceil(items/100), at least one request per list, as the
sandbox's generator counts them before any grade changes), peak memory of the importing
processes, and the incremental import's cost as a share of the full one.
Usage: .venv/bin/python bench/import_bench.py [--size district] [--seed 1] [--concurrency N]
       [--workers N] [--way command|scheduled|both]
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REDIS_URL,
    SandboxProcess,
    Workers,
    append_results,
    peak_rss_mb,
    setup_django,
)


def empty_district() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE courses_submission, courses_assignmentoverride, courses_enrollment, "
            "courses_assignment, courses_assignmentgroup, courses_section, courses_course, "
            "courses_person, courses_term, courses_account, sync_importrunerror, sync_importrun "
            "CASCADE"
        )


def scheduled_import(full: bool):
    """An import as the schedule starts it, waited for until the workers have closed it."""
    from sync.importer import import_start
    from sync.models import ImportRun

    run = import_start(full=full, requested_by="bench")
    while not run.finished_at:
        time.sleep(0.1)
        run = ImportRun.objects.get(pk=run.pk)
    return run


def measure(sandbox: SandboxProcess, run_import: Callable, change: float) -> dict:
    started = time.monotonic()
    full = run_import(True)
    full_seconds = time.monotonic() - started
    changed = sandbox.control("change_grades", fraction=change).get("changed")
    started = time.monotonic()
    incremental = run_import(False)
    return {
        "full": full,
        "full_seconds": full_seconds,
        "changed": changed,
        "incremental": incremental,
        "incremental_seconds": time.monotonic() - started,
    }


def report(m: dict, minimum: int, change: float, peak: str) -> list[str]:
    full, incremental = m["full"], m["incremental"]
    grades = full.counts.get("submissions", 0)
    return [
        f"- full import: status {full.status}, {full.courses_done} courses, "
        f"{grades:,} grade rows in {m['full_seconds']:.1f} s "
        f"= **{grades / m['full_seconds']:,.0f} grade rows/s**",
        f"- rows per kind: {', '.join(f'{k} {v:,}' for k, v in full.counts.items())}",
        f"- HTTP requests: {full.http_requests:,} vs minimum {minimum:,} "
        f"= **{full.http_requests / minimum:.3f}x**",
        f"- incremental after changing {m['changed']:,} grades ({change:.0%}): status "
        f"{incremental.status}, {incremental.counts.get('submissions', 0):,} grade rows read, "
        f"{incremental.http_requests:,} requests, {m['incremental_seconds']:.1f} s "
        f"= **{m['incremental_seconds'] / m['full_seconds']:.1%} of the full import's time**, "
        f"{incremental.http_requests / full.http_requests:.1%} of its requests",
        f"- peak memory {peak}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=None, help="threads of the command")
    parser.add_argument("--workers", type=int, default=4, help="qcluster workers (scheduled)")
    parser.add_argument("--way", choices=["command", "scheduled", "both"], default="both")
    parser.add_argument("--change", type=float, default=0.01, help="share of grades to change")
    args = parser.parse_args()
    os.environ["REDIS_URL"] = REDIS_URL  # a scheduled import queues its tasks there

    setup_django()
    import redis
    from django.conf import settings

    from sandbox.generator import District
    from sync.importer import district_import

    # Counted from the generator itself (every course rebuilt once): the items each list holds.
    minimum = District(args.size, seed=args.seed).totals()["minimum_requests"]
    concurrency = args.concurrency or settings.IMPORT_CONCURRENCY

    if args.way in ("command", "both"):
        empty_district()
        with SandboxProcess(args.size, seed=args.seed) as sandbox:
            settings.CANVAS_BASE_URL = sandbox.url
            measured = measure(
                sandbox,
                lambda full: district_import(
                    full=full, concurrency=concurrency, requested_by="bench"
                ),
                args.change,
            )
        append_results(
            f"import_bench ({args.size}, seed {args.seed}, as `import_canvas` runs it: one "
            f"process, {concurrency} courses at once, PostgreSQL)",
            report(
                measured, minimum, args.change, f"of the importing process: {peak_rss_mb():.0f} MB"
            ),
        )

    if args.way in ("scheduled", "both"):
        empty_district()
        redis.Redis.from_url(REDIS_URL).flushdb()
        with SandboxProcess(args.size, seed=args.seed) as sandbox:
            settings.CANVAS_BASE_URL = sandbox.url
            workers = Workers(sandbox, args.workers)
            try:
                measured = measure(sandbox, scheduled_import, args.change)
                peak = workers.peak_rss_mb()
            finally:
                workers.stop()
        append_results(
            f"import_bench ({args.size}, seed {args.seed}, as the schedule runs it: one task per "
            f"course, {args.workers} qcluster workers on Redis, PostgreSQL)",
            report(measured, minimum, args.change, f"of any worker process: {peak:.0f} MB"),
        )


if __name__ == "__main__":
    main()
