"""Benchmark: full import of the `district` sandbox on PostgreSQL, then an incremental one.

Prints and appends to bench/RESULTS.md: grade rows per second, HTTP requests versus the minimum
possible (the sum over every list of ceil(items/100), at least one request per list, as the
sandbox's generator counts them before any grade changes), peak memory
of the importing process, and the incremental import's cost as a share of the full one.
Usage: .venv/bin/python bench/import_bench.py [--size district] [--seed 1] [--concurrency N]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SandboxProcess, append_results, peak_rss_mb, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--change", type=float, default=0.01, help="share of grades to change")
    args = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.db import connection

    from sync.importer import district_import

    with connection.cursor() as cursor:  # start from an empty district
        cursor.execute(
            "TRUNCATE courses_submission, courses_assignmentoverride, courses_enrollment, "
            "courses_assignment, courses_assignmentgroup, courses_section, courses_course, "
            "courses_person, courses_term, courses_account, sync_importrunerror, sync_importrun "
            "CASCADE"
        )

    with SandboxProcess(args.size, seed=args.seed) as sandbox:
        settings.CANVAS_BASE_URL = sandbox.url
        concurrency = args.concurrency or settings.IMPORT_CONCURRENCY

        started = time.monotonic()
        full = district_import(full=True, concurrency=concurrency, requested_by="bench")
        full_seconds = time.monotonic() - started
        full_peak = peak_rss_mb()
        grades = full.counts.get("submissions", 0)

        changed = sandbox.control("change_grades", fraction=args.change).get("changed")
        started = time.monotonic()
        incremental = district_import(concurrency=concurrency, requested_by="bench")
        incremental_seconds = time.monotonic() - started

    # Counted from the generator itself (every course rebuilt once): the items each list holds.
    from sandbox.generator import District

    minimum = District(args.size, seed=args.seed).totals()["minimum_requests"]

    append_results(
        f"import_bench ({args.size}, seed {args.seed}, {concurrency} courses at once, PostgreSQL)",
        [
            f"- full import: status {full.status}, {full.courses_done} courses, "
            f"{grades:,} grade rows in {full_seconds:.1f} s "
            f"= **{grades / full_seconds:,.0f} grade rows/s**",
            f"- rows per kind: {', '.join(f'{k} {v:,}' for k, v in full.counts.items())}",
            f"- HTTP requests: {full.http_requests:,} vs minimum {minimum:,} "
            f"= **{full.http_requests / minimum:.3f}x**",
            f"- peak memory of the importing process: **{full_peak:.0f} MB**",
            f"- incremental after changing {changed:,} grades ({args.change:.0%}): status "
            f"{incremental.status}, {incremental.counts.get('submissions', 0):,} grade rows read, "
            f"{incremental.http_requests:,} requests, {incremental_seconds:.1f} s "
            f"= **{incremental_seconds / full_seconds:.1%} of the full import's time**, "
            f"{incremental.http_requests / full.http_requests:.1%} of its requests",
            f"- peak memory after both: {peak_rss_mb():.0f} MB",
        ],
    )


if __name__ == "__main__":
    main()
