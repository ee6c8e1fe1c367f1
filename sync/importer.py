"""Import the district from Canvas: full and incremental runs, one transaction per course.

A run lists the schools, terms and courses of the root account, then imports courses concurrently
(``IMPORT_CONCURRENCY`` at a time). Each course is fetched whole and written in one transaction,
so a course that fails (bad data, Canvas errors) keeps its previous data and the others go on.
Incremental runs ask Canvas only for grades graded since the course's last read (minus a safety
margin); everything else is small and re-read in full, and what vanished is flagged ``deleted``.
"""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from courses.models import (
    Account,
    Assignment,
    AssignmentGroup,
    AssignmentOverride,
    Course,
    Enrollment,
    Person,
    Section,
    Submission,
    Term,
)
from sync import canvas_rows as rows
from sync.bulk import bulk_upsert, mark_deleted
from sync.canvas import CanvasClient, CanvasError
from sync.models import ImportRun, ImportRunError

logger = logging.getLogger(__name__)

# Canvas stamps graded_at when the grader saves, which may be a little before our run starts
# reading that course; re-reading a few minutes of grades is cheap and loses nothing.
GRADED_SINCE_MARGIN = timedelta(minutes=10)
PROGRESS_EVERY_SECONDS = 1.0


@dataclass
class Progress:
    """A snapshot of a running import, for terminals and the admin."""

    courses_total: int
    courses_done: int
    courses_failed: int
    rows: int
    elapsed: float
    http_requests: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class CourseResult:
    canvas_id: int | None
    name: str
    counts: Counter = field(default_factory=Counter)
    error: str | None = None
    fatal: CanvasError | None = None


ProgressCallback = Callable[[Progress], None]


def canvas_client() -> CanvasClient:
    """A client configured from settings."""
    return CanvasClient(
        settings.CANVAS_BASE_URL,
        settings.CANVAS_TOKEN,
        timeout=settings.CANVAS_TIMEOUT,
        max_retries=settings.CANVAS_MAX_RETRIES,
    )


def district_import(
    *,
    full: bool = False,
    course_ids: Iterable[int] | None = None,
    client: CanvasClient | None = None,
    concurrency: int | None = None,
    requested_by: str = "",
    on_progress: ProgressCallback | None = None,
) -> ImportRun:
    """Import the district (or only ``course_ids``) now, and return the finished ImportRun."""
    wanted = sorted(set(course_ids or []))
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.FULL if full else ImportRun.Kind.INCREMENTAL,
        requested_by=requested_by,
        started_at=timezone.now(),
        course_filter=wanted,
    )
    own_client = client is None
    client = client or canvas_client()
    requests_before = client.requests_made
    try:
        _import_into(
            run, client, full=full, wanted=wanted, concurrency=concurrency, on_progress=on_progress
        )
    except CanvasError as exc:
        run.status = ImportRun.Status.FAILED
        run.message = str(exc)
    except Exception as exc:
        logger.exception("Import #%s failed", run.pk)
        run.status = ImportRun.Status.FAILED
        run.message = f"Unexpected error: {exc}"
    finally:
        run.http_requests = client.requests_made - requests_before
        run.finished_at = timezone.now()
        run.save()
        if own_client:
            client.close()
    return run


def _import_into(
    run: ImportRun,
    client: CanvasClient,
    *,
    full: bool,
    wanted: list[int],
    concurrency: int | None,
    on_progress: ProgressCallback | None,
) -> None:
    root = settings.CANVAS_ACCOUNT_ID
    now = run.started_at
    counts: Counter = Counter()

    account_rows = [(root, None, f"District (account {root})", None, False)]
    account_rows += [rows.account_row(a) for a in _items(client.sub_accounts(root))]
    term_rows = [rows.term_row(t) for t in _items(client.terms(root))]
    course_items = list(_items(client.courses(root)))
    # A course's embedded term may name a term the terms list did not (e.g. the default term).
    known_terms = {r[0] for r in term_rows}
    for item in course_items:
        term = item.get("term") if isinstance(item, dict) else None
        if isinstance(term, dict) and term.get("id") not in known_terms:
            try:
                term_rows.append(rows.term_row(term))
            except rows.BadCanvasData:
                continue  # the course itself will still import, without a term
            known_terms.add(term_rows[-1][0])

    with transaction.atomic():
        # The sub-accounts list omits the root itself, so its row is made up above.
        bulk_upsert(Account, rows.ACCOUNT_COLUMNS, account_rows, now=now)
        bulk_upsert(Term, rows.TERM_COLUMNS, term_rows, now=now)
        if not wanted:
            mark_deleted(Account.objects.all(), {r[0] for r in account_rows})
            mark_deleted(Term.objects.all(), known_terms)
    counts.update(accounts=len(account_rows), terms=len(term_rows))

    if wanted:
        listed = {item.get("id") for item in course_items if isinstance(item, dict)}
        missing = [cid for cid in wanted if cid not in listed]
        course_items = [i for i in course_items if isinstance(i, dict) and i.get("id") in wanted]
        for cid in missing:
            ImportRunError.objects.create(
                run=run,
                course_canvas_id=cid,
                message=f"Canvas did not list course {cid} in account {root}; check the id.",
            )
        run.courses_failed = len(missing)
    else:
        listed = {i.get("id") for i in course_items if isinstance(i, dict)} - {None}
        gone = Course.objects.filter(deleted=False).exclude(canvas_id__in=listed)
        gone.update(deleted=True, workflow_state=Course.State.DELETED)

    run.courses_total = len(course_items) + run.courses_failed
    run.counts = dict(counts)
    run.save()

    read_at = dict(Course.objects.values_list("canvas_id", "grades_read_at"))
    known_accounts = {r[0] for r in account_rows}

    def job(item: dict) -> CourseResult:
        cid = item.get("id") if isinstance(item, dict) else None
        since = None if full else read_at.get(cid)
        return course_import(
            client=client,
            item=item,
            started_at=now,
            graded_since=since - GRADED_SINCE_MARGIN if since else None,
            known_accounts=known_accounts,
            known_terms=known_terms,
        )

    _run_courses(run, client, course_items, job, counts, concurrency, on_progress)


def _run_courses(
    run: ImportRun,
    client: CanvasClient,
    items: list[dict],
    job: Callable[[dict], CourseResult],
    counts: Counter,
    concurrency: int | None,
    on_progress: ProgressCallback | None,
) -> None:
    """Run ``job`` for every course, ``concurrency`` at a time, recording results as they come."""
    started = time.monotonic()
    requests_before = client.requests_made
    last_report = 0.0
    fatal: CanvasError | None = None

    def report(*, force: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if not force and now - last_report < PROGRESS_EVERY_SECONDS:
            return
        last_report = now
        run.counts = dict(counts)
        run.http_requests = client.requests_made - requests_before
        ImportRun.objects.filter(pk=run.pk).update(
            courses_done=run.courses_done,
            courses_failed=run.courses_failed,
            counts=run.counts,
            http_requests=run.http_requests,
        )
        if on_progress:
            on_progress(
                Progress(
                    courses_total=run.courses_total,
                    courses_done=run.courses_done,
                    courses_failed=run.courses_failed,
                    rows=sum(v for k, v in counts.items() if k not in ("accounts", "terms")),
                    elapsed=now - started,
                    http_requests=run.http_requests,
                )
            )

    for result in _results(items, job, concurrency or settings.IMPORT_CONCURRENCY):
        if result.error:
            run.courses_failed += 1
            ImportRunError.objects.create(
                run=run,
                course_canvas_id=result.canvas_id,
                course_name=result.name[:500],
                message=result.error,
            )
        else:
            run.courses_done += 1
            counts.update(result.counts)
        fatal = fatal or result.fatal
        report()
    report(force=True)

    if fatal is not None:
        run.status = ImportRun.Status.FAILED
        run.message = str(fatal)
    elif run.courses_failed:
        run.status = ImportRun.Status.PARTIAL
        run.message = f"{run.courses_failed} of {run.courses_total} courses failed to import."
    else:
        run.status = ImportRun.Status.SUCCEEDED


def _results(
    items: list[dict], job: Callable[[dict], CourseResult], concurrency: int
) -> Iterator[CourseResult]:
    """Yield each course's result as it finishes; stop early after a fatal error."""
    if concurrency <= 1:
        for item in items:
            result = job(item)
            yield result
            if result.fatal:
                return
        return

    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        try:
            while not stop.is_set():
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                done.put(job(item))
        finally:
            connections.close_all()  # this thread's own connections

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    received = 0
    while received < len(items):
        try:
            result = done.get(timeout=0.5)
        except queue.Empty:
            if not any(t.is_alive() for t in threads) and done.empty():
                break
            continue
        received += 1
        if result.fatal:
            stop.set()
        yield result
    for thread in threads:
        thread.join()


def _items(pages: Iterable[list[dict]]) -> Iterator[dict]:
    for page in pages:
        yield from page


def course_import(
    *,
    client: CanvasClient,
    item: dict,
    started_at: datetime,
    graded_since: datetime | None,
    known_accounts: set[int],
    known_terms: set[int],
) -> CourseResult:
    """Fetch one course whole from Canvas and write it in one transaction."""
    cid = item.get("id") if isinstance(item, dict) else None
    name = str(item.get("name") or "") if isinstance(item, dict) else ""
    result = CourseResult(cid if isinstance(cid, int) else None, name)
    try:
        course = rows.course_row(item)
        cid = course[0]
        if course[1] not in known_accounts:
            raise rows.BadCanvasData(
                f"course {cid} belongs to account {course[1]}, which Canvas did not list "
                f"under the root account"
            )
        if course[2] is not None and course[2] not in known_terms:
            course = (*course[:2], None, *course[3:])
        fetched = _fetch_course(client, cid, graded_since)
        _write_course(course, fetched, started_at, graded_since, result.counts)
    except CanvasError as exc:
        result.error = str(exc)
        if exc.kind == "auth":
            result.fatal = exc
    except rows.BadCanvasData as exc:
        result.error = str(exc)
    except Exception as exc:
        logger.exception("Course %s failed to import", cid)
        result.error = f"Unexpected error: {exc}"
    if result.error:
        logger.warning("Course %s (%s) not imported: %s", cid, name[:60], result.error)
    return result


@dataclass
class CourseData:
    sections: list[dict]
    groups: list[dict]
    assignments: list[dict]
    enrollments: list[dict]
    submissions: list[dict]


def _fetch_course(client: CanvasClient, cid: int, graded_since: datetime | None) -> CourseData:
    return CourseData(
        sections=list(_items(client.sections(cid))),
        groups=list(_items(client.assignment_groups(cid))),
        assignments=list(_items(client.assignments(cid))),
        enrollments=list(_items(client.enrollments(cid))),
        submissions=list(_items(client.submissions(cid, graded_since=graded_since))),
    )


def _write_course(
    course: tuple,
    data: CourseData,
    now: datetime,
    graded_since: datetime | None,
    counts: Counter,
) -> None:
    cid = course[0]
    section_rows = [rows.section_row(s, cid) for s in data.sections]
    section_ids = {r[0] for r in section_rows}
    group_rows = [rows.group_row(g, cid) for g in data.groups]
    group_ids = {r[0] for r in group_rows}

    assignment_rows = []
    override_rows = []
    for item in data.assignments:
        row = rows.assignment_row(item, cid)
        if row[2] is not None and row[2] not in group_ids:
            row = (*row[:2], None, *row[3:])  # its group vanished: keep the assignment
        assignment_rows.append(row)
        overrides = item.get("overrides") or []
        if not isinstance(overrides, list):
            raise rows.BadCanvasData(
                f"Canvas sent overrides of assignment {row[0]} that are not a list"
            )
        for override in overrides:
            override_row = rows.override_row(override, row[0])
            if override_row is not None:
                override_rows.append(override_row)
    assignment_ids = {r[0] for r in assignment_rows}

    people: dict[int, tuple] = {}
    enrollment_rows = []
    for item in data.enrollments:
        row = rows.enrollment_row(item, cid)
        if row is None:
            continue
        if row[3] not in section_ids:
            counts["enrollments_skipped"] += 1  # a section of another (cross-listed) course
            continue
        user = item.get("user")
        if not isinstance(user, dict):
            raise rows.BadCanvasData(f"Canvas sent enrollment {row[0]} without its user")
        people[row[1]] = rows.person_row(user)
        enrollment_rows.append(row)

    submission_rows = []
    for item in data.submissions:
        row = rows.submission_row(item, cid)
        if row[2] not in assignment_ids or row[3] not in people:
            counts["submissions_skipped"] += 1  # not an active student, or a hidden assignment
            continue
        submission_rows.append(row)

    # People are shared between courses: write them first, sorted so that concurrent courses
    # lock them in the same order, and outside the course transaction so that two courses
    # never wait on each other's commit.
    bulk_upsert(Person, rows.PERSON_COLUMNS, sorted(people.values()), now=now)

    with transaction.atomic():
        bulk_upsert(Course, rows.COURSE_COLUMNS, [course], now=now)
        bulk_upsert(Section, rows.SECTION_COLUMNS, section_rows, now=now)
        bulk_upsert(AssignmentGroup, rows.GROUP_COLUMNS, group_rows, now=now)
        bulk_upsert(Assignment, rows.ASSIGNMENT_COLUMNS, assignment_rows, now=now)
        bulk_upsert(AssignmentOverride, rows.OVERRIDE_COLUMNS, override_rows, now=now)
        bulk_upsert(Enrollment, rows.ENROLLMENT_COLUMNS, enrollment_rows, now=now)
        bulk_upsert(Submission, rows.SUBMISSION_COLUMNS, submission_rows, now=now)

        mark_deleted(Section.objects.filter(course_id=cid), section_ids)
        mark_deleted(AssignmentGroup.objects.filter(course_id=cid), group_ids)
        mark_deleted(Assignment.objects.filter(course_id=cid), assignment_ids)
        mark_deleted(
            AssignmentOverride.objects.filter(assignment__course_id=cid),
            {r[0] for r in override_rows},
        )
        mark_deleted(Enrollment.objects.filter(course_id=cid), {r[0] for r in enrollment_rows})
        if graded_since is None:  # all grades were read, so absent ones are gone
            mark_deleted(Submission.objects.filter(course_id=cid), {r[0] for r in submission_rows})
        Course.objects.filter(canvas_id=cid).update(grades_read_at=now)

    counts.update(
        courses=1,
        sections=len(section_rows),
        assignment_groups=len(group_rows),
        assignments=len(assignment_rows),
        overrides=len(override_rows),
        people=len(people),
        enrollments=len(enrollment_rows),
        submissions=len(submission_rows),
    )
