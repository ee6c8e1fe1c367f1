"""Benchmark: a district compliance summary and every teacher digest, on PostgreSQL.

Uses the imported `district` sandbox in the benchmark database as it is (it neither imports nor
changes the district; it only adds report and delivery rows). Each round takes the district
summary, then every teacher digest, then renders and "sends" all of them through a mail backend
that builds each MIME message and drops it (what a scheduled run does, minus the SMTP server).
Prints and appends to bench/RESULTS.md: the time of each step (median of the rounds), the total,
and the process's peak memory.
Usage: .venv/bin/python bench/report_bench.py [--rounds 3]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from bench.common import append_results, peak_rss_mb, setup_django  # noqa: E402

TIME_LIMIT_S = 30
MEMORY_LIMIT_MB = 300


def mime_sink():
    """A mail backend that serializes every message like SMTP would, and keeps only its size."""
    from django.core.mail.backends.base import BaseEmailBackend

    class MimeSink(BaseEmailBackend):
        bytes_sent = 0
        messages = 0

        def send_messages(self, email_messages) -> int:
            for message in email_messages:
                MimeSink.bytes_sent += len(message.message().as_bytes())
                MimeSink.messages += 1
            return len(email_messages)

    return MimeSink


def one_round(sink: type) -> dict[str, float]:
    from sync.reports import deliveries_queue, deliveries_send, report_build, teacher_digests_build
    from sync.reports.delivery import teacher_deliveries_queue

    timings = {}
    started = time.perf_counter()
    report = report_build(requested_by="report bench")
    timings["district summary: snapshot"] = time.perf_counter() - started

    started = time.perf_counter()
    digests, clean = teacher_digests_build(requested_by="report bench")
    timings["teacher digests: snapshots"] = time.perf_counter() - started

    started = time.perf_counter()
    deliveries = deliveries_queue(report=report, recipients=["bench@example.invalid"])
    deliveries += teacher_deliveries_queue(digests=digests)
    summary = deliveries_send(deliveries=deliveries, connection=sink())
    timings["render + MIME of every mail"] = time.perf_counter() - started
    timings["_digests"] = len(digests)
    timings["_clean"] = clean
    timings["_sent"] = summary.sent
    timings["_skipped"] = sum(1 for d in deliveries if d.status == d.Status.SKIPPED)
    timings["_violations"] = len(report.violations["rows"])
    timings["_rate"] = report.compliance_rate or 0.0
    timings["_synced"] = report.synced
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    setup_django()
    from courses.models import Course, Enrollment

    courses = Course.objects.count()
    if courses < 500:
        sys.exit(f"The benchmark database holds {courses} courses; import the district first.")
    teachers = (
        Enrollment.objects.filter(type="teacher", state="active", deleted=False)
        .values("person_id")
        .distinct()
        .count()
    )
    sink = mime_sink()
    rounds = [one_round(sink) for _ in range(args.rounds)]
    steps = [k for k in rounds[0] if not k.startswith("_")]
    medians = {step: statistics.median(r[step] for r in rounds) for step in steps}
    totals = [sum(r[step] for step in steps) for r in rounds]
    snapshot_totals = [
        r["district summary: snapshot"] + r["teacher digests: snapshots"] for r in rounds
    ]
    total = statistics.median(totals)
    peak = peak_rss_mb()
    last = rounds[-1]
    verdict = "within" if total < TIME_LIMIT_S and peak < MEMORY_LIMIT_MB else "NOT within"
    lines = [
        f"- data: {courses:,} courses, {teachers:,} active teachers, {last['_synced']:,} synced "
        f"assignments, {last['_violations']:,} open blocking and warning violations; "
        f"district compliance {100 * last['_rate']:.1f}%",
        f"- per round: 1 district summary + {last['_digests']:,} teacher digests "
        f"({last['_clean']:,} teachers had nothing to fix, {last['_skipped']:,} without an "
        f"e-mail address); {last['_sent']:,} mails rendered and serialized "
        f"({sink.bytes_sent / max(sink.messages, 1) / 1024:.0f} KiB each on average)",
        f"- median of {args.rounds} rounds:",
        *[f"  - {step}: **{medians[step]:.2f} s**" for step in steps],
        f"- snapshots only (district summary + all digests): median "
        f"**{statistics.median(snapshot_totals):.2f} s**",
        f"- everything (snapshots + rendering every mail): median **{total:.2f} s** "
        f"(rounds: {', '.join(f'{t:.2f}' for t in totals)} s)",
        f"- peak memory of the process: **{peak:.0f} MB**",
        f"- {verdict} the targets (under {TIME_LIMIT_S} s in all, under {MEMORY_LIMIT_MB} MB)",
    ]
    append_results("report_bench (district, PostgreSQL)", lines)


if __name__ == "__main__":
    main()
