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
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
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
from sync.bulk import (
    bulk_upsert,
    commits_wait_for_disk,
    mark_deleted,
    relaxed_commits,
    statistics_refresh,
)
from sync.canvas import CanvasClient, CanvasError
from sync.course_import import CourseResult, course_import, items
from sync.fanout import enqueue
from sync.models import ImportRun, ImportRunError
from sync.sis_categories import sis_categories_refresh
from sync.violations import violations_refresh

logger = logging.getLogger(__name__)

# Canvas stamps graded_at when the grader saves, which may be a little before our run starts
# reading that course; re-reading a few minutes of grades is cheap and loses nothing.
GRADED_SINCE_MARGIN = timedelta(minutes=10)
PROGRESS_EVERY_SECONDS = 1.0
# What an import writes; their planner statistics are refreshed at the end of each full import.
IMPORTED_TABLES = (
    Account,
    Term,
    Person,
    Course,
    Section,
    AssignmentGroup,
    Assignment,
    AssignmentOverride,
    Enrollment,
    Submission,
)
# An import checks the rule book on each batch of imported courses while it imports the next
# ones (a fanned-out import, on whichever worker completes the batch), so that the run ends soon
# after its last course.
CHECK_RULES_EVERY = 100


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


ProgressCallback = Callable[[Progress], None]


def canvas_client(*, direct: bool = False) -> CanvasClient:
    """A client configured from settings; ``direct``: reads take the client's DirectLane."""
    return CanvasClient(
        settings.CANVAS_BASE_URL,
        settings.CANVAS_TOKEN,
        timeout=settings.CANVAS_TIMEOUT,
        max_retries=settings.CANVAS_MAX_RETRIES,
        direct=direct,
    )


def _import_client() -> CanvasClient:
    return canvas_client(direct=True)


def district_import(
    *,
    full: bool = False,
    course_ids: Iterable[int] | None = None,
    client: CanvasClient | None = None,
    concurrency: int | None = None,
    requested_by: str = "",
    on_progress: ProgressCallback | None = None,
) -> ImportRun:
    """Import the district (or only ``course_ids``) now, in this process; return the finished run.

    Courses are imported by ``concurrency`` threads, each with its own Canvas client (and so its
    own keep-alive connection and request count). A ``client`` passed in is shared by all.
    """
    run = _run_create(full=full, course_ids=course_ids, requested_by=requested_by)
    top_client = client or _import_client()
    fatal: CanvasError | None = None
    commits_wait_for_disk(False)
    try:
        items = _run_prepare(run, top_client)
        known = _known_parents()
        started = time.monotonic()
        make_client = (lambda: client) if client else _import_client
        jobs = _results(
            items,
            lambda c, item: _course_job(run, c, item, known),
            make_client,
            concurrency or settings.IMPORT_CONCURRENCY,
            close_clients=client is None,
        )
        last_report = 0.0
        for result in jobs:
            fatal = fatal or result.fatal
            if fatal:  # the loop stops: the run is closed below
                _run_record(run.pk, result, batches=False)
                continue
            run = _course_recorded(run.pk, result)
            now = time.monotonic()
            if on_progress and (now - last_report >= PROGRESS_EVERY_SECONDS or run.finished_at):
                last_report = now
                on_progress(_progress(run, now - started))
    except Exception as exc:
        fatal = exc
    finally:
        commits_wait_for_disk(True)
        if client is None:
            top_client.close()
    return _run_finish(run.pk, fatal)


def import_start(*, full: bool = False, requested_by: str = "") -> ImportRun:
    """Start an import that fans out to django-q2: one task per course, on any worker host."""
    run = _run_create(full=full, course_ids=None, requested_by=requested_by)
    try:
        with _import_client() as client:
            items = _run_prepare(run, client)
    except Exception as exc:
        return _run_finish(run.pk, exc)
    if not items:
        return _run_finish(run.pk, None)
    for item in items:
        enqueue("import_course", run.pk, item, group=f"import-{run.pk}")
    return run


class ImportStalled(Exception):
    """A fanned-out import in which no course finished for STALLED_AFTER."""


# A fanned-out import with no course finished for this long has lost its tasks with their
# worker (Redis hands each task out once), or they wait behind other work. The next scheduled
# import closes it, instead of leaving it "running" and skipping every import until it ends.
STALLED_AFTER = timedelta(hours=1)


def import_stalled(run: ImportRun, *, now: datetime | None = None) -> bool:
    """Whether a running import has had no course finished for STALLED_AFTER."""
    now = now or timezone.now()
    return (run.progress_at or run.started_at) < now - STALLED_AFTER


def import_close_stalled(run: ImportRun) -> ImportRun:
    """Close a stalled import as failed, saying what happened; what it imported is kept (and
    its rules checked), and a task of it that comes up later finds it closed and does nothing."""
    left = run.courses_total - run.courses_done - run.courses_failed
    stalled = ImportStalled(
        f"No course of this import finished for {STALLED_AFTER.total_seconds() / 60:.0f} "
        f"minutes: its "
        f"tasks were lost with a worker, or waited behind other work. {left} of "
        f"{run.courses_total} courses were not imported by it and keep their previous data; "
        f"the next import reads them again."
    )
    return _run_finish(run.pk, stalled)


def import_course_in_run(*, run_id: int, item: dict) -> ImportRun:
    """One course of a fanned-out import; the last course to finish closes the run."""
    run = ImportRun.objects.get(pk=run_id)
    if run.finished_at:  # the run was stopped (e.g. the token was rejected): nothing to do
        return run
    with relaxed_commits(), _import_client() as client:
        result = _course_job(run, client, item, _known_parents())
    if result.fatal:
        _run_record(run_id, result, batches=False)
        return _run_finish(run_id, result.fatal)
    return _course_recorded(run_id, result)


def _run_create(*, full: bool, course_ids: Iterable[int] | None, requested_by: str) -> ImportRun:
    return ImportRun.objects.create(
        kind=ImportRun.Kind.FULL if full else ImportRun.Kind.INCREMENTAL,
        requested_by=requested_by,
        started_at=timezone.now(),
        course_filter=sorted(set(course_ids or [])),
    )


def _run_prepare(run: ImportRun, client: CanvasClient) -> list[dict]:
    """Import schools and terms, list the courses to import, and set the run's total."""
    root = settings.CANVAS_ACCOUNT_ID
    now = run.started_at
    wanted = run.course_filter
    requests_before = client.requests_made

    account_rows = [(root, None, f"District (account {root})", None, False)]
    account_rows += [rows.account_row(a) for a in items(client.sub_accounts(root))]
    term_rows = [rows.term_row(t) for t in items(client.terms(root))]
    course_items = list(items(client.courses(root)))
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

    listed = {i.get("id") for i in course_items if isinstance(i, dict)} - {None}
    with transaction.atomic():
        # The sub-accounts list omits the root itself, so its row is made up above.
        bulk_upsert(Account, rows.ACCOUNT_COLUMNS, account_rows, now=now)
        bulk_upsert(Term, rows.TERM_COLUMNS, term_rows, now=now)
        if not wanted:
            mark_deleted(Account.objects.all(), {r[0] for r in account_rows})
            mark_deleted(Term.objects.all(), known_terms)
            gone = Course.objects.filter(deleted=False).exclude(canvas_id__in=listed)
            gone.update(deleted=True, workflow_state=Course.State.DELETED)

    failed = 0
    if wanted:
        course_items = [i for i in course_items if isinstance(i, dict) and i.get("id") in wanted]
        for cid in sorted(set(wanted) - listed):
            failed += 1
            ImportRunError.objects.create(
                run=run,
                course_canvas_id=cid,
                message=f"Canvas did not list course {cid} in account {root}; check the id.",
            )
    run.courses_total = len(course_items) + failed
    run.courses_failed = failed
    run.counts = {"accounts": len(account_rows), "terms": len(term_rows)}
    run.http_requests = client.requests_made - requests_before
    run.save(update_fields=["courses_total", "courses_failed", "counts", "http_requests"])
    return course_items


def _known_parents() -> tuple[set[int], set[int]]:
    """Canvas ids of the live accounts and terms a course may point at."""
    accounts = set(Account.objects.filter(deleted=False).values_list("canvas_id", flat=True))
    terms = set(Term.objects.values_list("canvas_id", flat=True))
    return accounts, terms


def _course_job(
    run: ImportRun, client: CanvasClient, item: dict, known: tuple[set[int], set[int]]
) -> CourseResult:
    cid = item.get("id") if isinstance(item, dict) else None
    since, digest = None, None
    if run.kind == ImportRun.Kind.INCREMENTAL and isinstance(cid, int):
        since, digest = (
            Course.objects.filter(canvas_id=cid)
            .values_list("grades_read_at", "canvas_digest")
            .first()
        ) or (None, None)
    before = client.requests_made_here
    result = course_import(
        client=client,
        item=item,
        started_at=run.started_at,
        graded_since=since - GRADED_SINCE_MARGIN if since else None,
        known_accounts=known[0],
        known_terms=known[1],
        known_digest=digest,
    )
    result.requests = client.requests_made_here - before
    return result


def _course_recorded(run_id: int, result: CourseResult) -> ImportRun:
    """Record a course's outcome; check the rules of a full batch of imported courses; close
    the run after its last course."""
    run, batch = _run_record(run_id, result)
    if batch:
        try:
            _rules_check(run, batch)
        except Exception as exc:  # the courses are imported; say what could not be checked
            logger.exception("Import #%s: rules of %d courses not checked", run_id, len(batch))
            ImportRunError.objects.create(
                run=run,
                message=f"The rules of {len(batch)} imported courses (Canvas ids "
                f"{', '.join(map(str, sorted(batch)))}) were not checked: {exc}. The next "
                f"import checks them again.",
            )
    if run.courses_done + run.courses_failed >= run.courses_total:
        return _run_finish(run_id, None)
    return run


def _run_record(
    run_id: int, result: CourseResult, *, batches: bool = True
) -> tuple[ImportRun, list[int]]:
    """Add one course's outcome to the run, under a row lock (workers may finish together).
    Returns the run and, with ``batches``, once CHECK_RULES_EVERY imported courses await their
    rules check (and more courses are to come), those courses: the caller checks them."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
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
            counts = Counter(run.counts)
            counts.update(result.counts)
            run.counts = dict(counts)
            if result.canvas_id is not None:
                run.rules_pending.append(result.canvas_id)
        run.http_requests += result.requests
        run.progress_at = timezone.now()
        batch: list[int] = []
        last = run.courses_done + run.courses_failed >= run.courses_total
        if batches and len(run.rules_pending) >= CHECK_RULES_EVERY and not last:
            batch, run.rules_pending = run.rules_pending, []
        run.save(
            update_fields=[
                "courses_done",
                "courses_failed",
                "counts",
                "http_requests",
                "rules_pending",
                "progress_at",
            ]
        )
    return run, batch


def _run_finish(run_id: int, fatal: Exception | None) -> ImportRun:
    """Check the rules of what the run imported and not checked yet, then close the run once
    (the status says how it went); later calls leave it as it is."""
    run = ImportRun.objects.get(pk=run_id)
    if run.finished_at:
        return run
    if fatal is None or run.courses_done:
        if run.kind == ImportRun.Kind.FULL:  # the nightly run: the tables' sizes may have moved
            statistics_refresh(IMPORTED_TABLES)
        # What was imported is evaluated before the run ends, so that a finished run's
        # findings are current and the dashboard never shows stale ones.
        checked = _courses_imported_by(run) - set(run.rules_pending)
        _rules_check(run, run.course_filter or None, already_checked=checked)
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at:
            return run
        if isinstance(fatal, CanvasError | rows.BadCanvasData | ImportStalled):
            run.status, run.message = ImportRun.Status.FAILED, str(fatal)
        elif fatal is not None:
            logger.error("Import #%s failed", run_id, exc_info=fatal)
            run.status, run.message = ImportRun.Status.FAILED, f"Unexpected error: {fatal}"
        elif run.courses_failed:
            run.status = ImportRun.Status.PARTIAL
            run.message = f"{run.courses_failed} of {run.courses_total} courses failed to import."
        else:
            run.status = ImportRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        if fatal is None or run.courses_done:
            run.rules_pending = []  # checked above
        run.save(update_fields=["status", "message", "finished_at", "rules_pending"])
    return run


def _courses_imported_by(run: ImportRun) -> set[int]:
    """The courses ``run`` imported: each one's grades were read as of the run's start."""
    imported = Course.objects.filter(grades_read_at=run.started_at)
    return set(imported.values_list("canvas_id", flat=True))


def _rules_check(
    run: ImportRun, course_ids: list[int] | None, *, already_checked: Collection[int] = ()
) -> None:
    """Refresh the IC categories, then the violations, of these courses (None: the district)."""
    rest = None if course_ids is None else [c for c in course_ids if c not in already_checked]
    if rest == []:
        return
    _sis_categories_refresh(run, rest, already_checked)
    violations_refresh(course_ids=rest, already_checked=already_checked)


def _sis_categories_refresh(
    run: ImportRun, course_ids: list[int] | None, already_checked: Collection[int]
) -> None:
    """With SIS_* configured, re-read the IC categories the `category_not_in_sis` rule needs.
    A SIS failure is recorded on the run; it never fails the Canvas import."""
    from sync.oneroster import OneRosterError
    from sync.passback import PassbackNotConfigured, sis_client

    if not settings.SIS_BASE_URL:
        return
    if course_ids is None and already_checked:
        every = Course.objects.values_list("canvas_id", flat=True)
        course_ids = sorted(set(every) - set(already_checked))
    try:
        with sis_client() as client:
            errors = sis_categories_refresh(client=client, course_ids=course_ids)
    except (PassbackNotConfigured, OneRosterError) as exc:
        errors = [str(exc)]
    ImportRunError.objects.bulk_create(
        ImportRunError(run=run, message=f"Infinite Campus categories not refreshed: {error}")
        for error in errors[:100]
    )


def _progress(run: ImportRun, elapsed: float) -> Progress:
    return Progress(
        courses_total=run.courses_total,
        courses_done=run.courses_done,
        courses_failed=run.courses_failed,
        rows=sum(v for k, v in run.counts.items() if k not in ("accounts", "terms")),
        elapsed=elapsed,
        http_requests=run.http_requests,
    )


def _results(
    items: list[dict],
    job: Callable[[CanvasClient, dict], CourseResult],
    make_client: Callable[[], CanvasClient],
    concurrency: int,
    *,
    close_clients: bool,
) -> Iterator[CourseResult]:
    """Yield each course's result as it finishes; stop early after a fatal error."""
    if concurrency <= 1:
        client = make_client()
        try:
            for item in items:
                result = job(client, item)
                yield result
                if result.fatal:
                    return
        finally:
            if close_clients:
                client.close()
        return

    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        client = make_client()
        commits_wait_for_disk(False)  # this thread's own connection, closed below
        try:
            while not stop.is_set():
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                done.put(job(client, item))
        finally:
            if close_clients:
                client.close()
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
