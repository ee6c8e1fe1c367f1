"""The importer against the sandbox's Canvas over real HTTP on 127.0.0.1."""

import pytest

from courses.models import Assignment, Course, Section, Submission
from sandbox.generator import District
from sandbox.server import SandboxServer
from sync.canvas import CanvasClient
from sync.importer import district_import
from sync.models import ImportRun

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "sandbox-token"


@pytest.fixture
def sandbox(settings):
    district = District("small", seed=3)
    with SandboxServer(district, token=TOKEN, slow_delay=0.2, fault_retry_after=0) as server:
        settings.CANVAS_BASE_URL = server.url
        settings.CANVAS_TOKEN = TOKEN
        yield district, server


def fast_client(url: str, token: str = TOKEN) -> CanvasClient:
    return CanvasClient(url, token, timeout=5, backoff_base=0.01, backoff_max=0.05)


def imported(url: str, *, full: bool = True, concurrency: int = 1, **kwargs) -> ImportRun:
    return district_import(client=fast_client(url), full=full, concurrency=concurrency, **kwargs)


def snapshot() -> dict:
    return {
        "courses": sorted(Course.objects.values_list("canvas_id", "name", "workflow_state")),
        "sections": sorted(Section.objects.values_list("canvas_id", "sis_section_id", "deleted")),
        "assignments": sorted(
            Assignment.objects.values_list("canvas_id", "name", "due_at", "post_to_sis")
        ),
        "grades": sorted(Submission.objects.values_list("canvas_id", "score", "graded_at")),
    }


def test_a_full_import_brings_in_every_row_the_sandbox_serves(sandbox):
    district, server = sandbox
    run = imported(server.url, concurrency=4)

    totals = district.totals()
    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.courses_done == len(district.course_ids())
    assert Course.objects.count() == len(district.course_ids())
    assert Assignment.objects.count() == totals["assignments"]
    assert Section.objects.count() == totals["sections"]
    assert (
        Submission.objects.count() + run.counts.get("submissions_skipped", 0)
        == (totals["submissions"])
    )
    assert run.http_requests <= 1.1 * totals["minimum_requests"]


def test_with_faults_a_full_import_yields_data_identical_to_a_fault_free_one(sandbox):
    district, _ = sandbox
    with SandboxServer(district, token=TOKEN) as clean:
        assert imported(clean.url).status == ImportRun.Status.SUCCEEDED
    expected = snapshot()
    Submission.objects.all().delete()
    Assignment.objects.all().delete()
    Section.objects.all().delete()
    Course.objects.all().delete()

    with SandboxServer(
        district, token=TOKEN, faults=0.2, slow_delay=0.2, fault_retry_after=0, fault_seed=7
    ) as faulty:
        run = imported(faulty.url, concurrency=2)
        injected = faulty.stats.as_json()["faults_injected"]

    assert injected > 20
    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert snapshot() == expected


def test_an_incremental_import_reads_only_the_changed_grades(sandbox):
    district, server = sandbox
    imported(server.url)
    changed = district.change_grades(0.02)

    run = imported(server.url, full=False)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.counts["submissions"] == changed
    assert Submission.objects.filter(deleted=False).count() == Submission.objects.count()


def test_assignments_and_sections_gone_from_canvas_are_marked_deleted(sandbox):
    district, server = sandbox
    imported(server.url)
    course_id = district.course_ids()[0]
    course = district.course(course_id)
    assignment_id = course.assignments[0]["id"]
    section_id = course.sections[-1]["id"]
    district.delete_assignment(course_id, assignment_id)
    district.delete_section(course_id, section_id)

    imported(server.url, full=False)

    assert Assignment.objects.get(canvas_id=assignment_id).deleted
    assert Section.objects.get(canvas_id=section_id).deleted


def test_a_changed_section_sis_id_is_picked_up(sandbox):
    district, server = sandbox
    imported(server.url)
    course_id = district.course_ids()[1]
    section_id = district.course(course_id).sections[0]["id"]
    district.rename_section_sis(course_id, section_id, "NEW-SIS-1")

    imported(server.url, full=False)

    assert Section.objects.get(canvas_id=section_id).sis_section_id == "NEW-SIS-1"


@pytest.mark.parametrize("kind", ["malformed_json", "missing_id", "unknown_workflow_state"])
def test_bad_data_fails_only_its_course_and_keeps_what_was_imported_before(sandbox, kind):
    district, server = sandbox
    imported(server.url)
    before = snapshot()
    course_id = district.course_ids()[2]
    district.corrupt_course(course_id, kind)

    run = imported(server.url)

    assert run.status == ImportRun.Status.PARTIAL
    error = run.errors.get()
    assert error.course_canvas_id == course_id
    assert error.message
    assert run.courses_done == len(district.course_ids()) - 1
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["long_name", "unicode", "null_dates", "old_canvas"])
def test_unusual_but_valid_data_imports(sandbox, kind):
    district, server = sandbox
    course_id = district.course_ids()[3]
    district.corrupt_course(course_id, kind)

    run = imported(server.url)

    assert run.status == ImportRun.Status.SUCCEEDED, [e.message for e in run.errors.all()]
    assert Assignment.objects.filter(course_id=course_id).count() == len(
        district.course(course_id).assignments
    )


def test_a_wrong_token_stops_the_run_and_names_canvas_token(sandbox):
    _, server = sandbox
    run = district_import(client=fast_client(server.url, "wrong"), full=True, concurrency=1)

    assert run.status == ImportRun.Status.FAILED
    assert "CANVAS_TOKEN" in run.message
    assert Course.objects.count() == 0


def test_an_unreachable_canvas_says_so_and_names_canvas_base_url():
    client = CanvasClient("http://127.0.0.1:9", TOKEN, timeout=1, max_retries=1, backoff_base=0.01)

    run = district_import(client=client, full=True, concurrency=1)

    assert run.status == ImportRun.Status.FAILED
    assert "CANVAS_BASE_URL" in run.message


def open_violations() -> list[tuple]:
    from sync.models import Violation

    return sorted(
        Violation.objects.filter(resolved_at__isnull=True).values_list(
            "rule", "course_id", "assignment_id", "section_id"
        )
    )


@pytest.fixture
def checks(sandbox, monkeypatch):
    """Import once with one rule check at the end; then spy on the checks of the next import,
    which must find the same violations and take one compliance sample."""
    from sync import importer
    from sync.models import ComplianceSample, Violation

    _, server = sandbox
    monkeypatch.setattr(importer, "CHECK_RULES_EVERY", 10**6)
    assert imported(server.url, concurrency=2).status == ImportRun.Status.SUCCEEDED
    at_the_end = open_violations()
    assert at_the_end
    Violation.objects.all().delete()
    samples = ComplianceSample.objects.values("taken_at").distinct().count()

    seen: list[tuple] = []
    real_check = importer.violations_refresh

    def spy(**kwargs):
        seen.append((kwargs.get("course_ids"), set(kwargs.get("already_checked", ()))))
        return real_check(**kwargs)

    monkeypatch.setattr(importer, "violations_refresh", spy)
    yield seen
    assert open_violations() == at_the_end
    # The district's compliance trend gets one sample per import, as before.
    assert ComplianceSample.objects.values("taken_at").distinct().count() == samples + 1


@pytest.mark.parametrize("way", ["command", "schedule"])
def test_rules_checked_in_batches_during_the_import_find_what_one_check_at_the_end_finds(
    sandbox, checks, monkeypatch, way
):
    from sync import importer
    from sync.tasks import import_canvas

    _, server = sandbox
    monkeypatch.setattr(importer, "CHECK_RULES_EVERY", 2)
    if way == "command":
        run = imported(server.url, concurrency=2)
    else:  # one task per course; the test settings run django-q2 tasks inline
        import_canvas(full=True)
        run = ImportRun.objects.get(requested_by="schedule")
    assert run.status == ImportRun.Status.SUCCEEDED

    assert len(checks) > 2  # batches during the run, then the rest at its end
    *batches, (last_ids, skipped) = checks
    assert all(len(ids) == 2 for ids, _ in batches)
    assert last_ids is None and skipped == {cid for ids, _ in batches for cid in ids}
    assert not ImportRun.objects.get(pk=run.pk).rules_pending
