"""Benchmark: the violation refresh and the admin pages of the district on PostgreSQL.

Imports the `district` sandbox if the benchmark database does not hold it yet, times a full
violation refresh, fills the violation history up to 1,000,000 rows (synthetic resolved rows,
spread over the past year), then renders the admin Violation changelist and the dashboard
through Django's test client: the median of 20 loads, with no filter and with each single filter.
Prints and appends to bench/RESULTS.md.
Usage: .venv/bin/python bench/rules_bench.py [--size district] [--history 1000000] [--loads 20]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from bench.common import SandboxProcess, append_results, setup_django  # noqa: E402


def ensure_district(size: str, seed: int) -> str:
    from django.conf import settings

    from courses.models import Course
    from sync.importer import district_import

    if Course.objects.count() >= 500:
        return f"reused the imported district ({Course.objects.count()} courses)"
    with SandboxProcess(size, seed=seed) as sandbox:
        settings.CANVAS_BASE_URL = sandbox.url
        run = district_import(full=True, requested_by="rules bench")
    return f"imported the {size} sandbox first (import #{run.pk}, {run.status})"


def fill_history(target: int) -> int:
    """Resolved copies of the current violations, first seen over the past year, up to target."""
    from django.db import connection

    from sync.models import Violation

    have = Violation.objects.count()
    current = Violation.objects.filter(resolved_at__isnull=True).count()
    if have >= target or not current:
        return have
    copies = -(-(target - have) // current)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sync_violation (key, rule, severity, course_id, assignment_id, section_id,
                school_id, term_id, message, first_seen, last_seen, resolved_at)
            SELECT key, rule, severity, course_id, assignment_id, section_id, school_id, term_id,
                   message,
                   now() - make_interval(days => (g * 7 + id %% 7)::int %% 365 + 2),
                   now() - make_interval(days => (g * 7 + id %% 7)::int %% 365 + 1),
                   now() - make_interval(days => (g * 7 + id %% 7)::int %% 365 + 1)
            FROM sync_violation, generate_series(1, %s) AS g
            WHERE resolved_at IS NULL
            LIMIT %s
            """,
            [copies, target - have],
        )
        cursor.execute("ANALYZE sync_violation")
    return Violation.objects.count()


def median_ms(client, url: str, loads: int) -> float:
    client.get(url)  # warm caches and the connection
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from courses.models import Account, Assignment, Term
    from sync.models import Violation
    from sync.violations import violations_refresh

    how = ensure_district(args.size, args.seed)
    refreshes = []
    for _ in range(3):
        started = time.perf_counter()
        summary = violations_refresh()
        refreshes.append(time.perf_counter() - started)
    assignments = Assignment.objects.count()
    rows = fill_history(args.history)

    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    school = Account.objects.filter(courses__isnull=False).values_list("canvas_id", flat=True)[0]
    term = Term.objects.filter(courses__isnull=False).values_list("canvas_id", flat=True)[0]
    base = "/admin/sync/violation/"
    pages = {
        "dashboard /admin/": "/admin/",
        "changelist, no filter (open)": base,
        "changelist ?rule=name_too_long": f"{base}?rule=name_too_long",
        "changelist ?severity=blocking": f"{base}?severity=blocking",
        f"changelist ?school={school}": f"{base}?school={school}",
        f"changelist ?term={term}": f"{base}?term={term}",
        "changelist ?status=resolved": f"{base}?status=resolved",
        "changelist ?status=all": f"{base}?status=all",
        "changelist ?age=gt30": f"{base}?age=gt30",
        "changelist ?q=quiz (search)": f"{base}?q=quiz",
    }
    timings = {label: median_ms(client, url, args.loads) for label, url in pages.items()}

    open_rows = Violation.objects.filter(resolved_at__isnull=True).count()
    refresh = statistics.median(refreshes)
    lines = [
        f"- data: {how}; {assignments:,} assignments; {open_rows:,} open violations",
        f"- full violation refresh (district): median of 3 = **{refresh:.2f} s**"
        f" (runs: {', '.join(f'{t:.2f}' for t in refreshes)} s; last opened {summary.opened},"
        f" resolved {summary.resolved})",
        f"- violation history: {rows:,} rows",
        f"- admin pages, median of {args.loads} loads through the test client:",
        *[f"  - {label}: **{ms:.0f} ms**" for label, ms in timings.items()],
    ]
    append_results(f"rules_bench ({args.size}, seed {args.seed}, PostgreSQL)", lines)


if __name__ == "__main__":
    main()
