"""Passback against the sandbox's simulated Infinite Campus over real HTTP on 127.0.0.1."""

import pytest

from courses.models import Course, Section
from sandbox.generator import District
from sandbox.server import SandboxServer
from sync.canvas import CanvasClient
from sync.importer import district_import
from sync.models import GradeOutcome, SyncRun
from sync.passback import passback_counts, passback_execute, passback_request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def district():
    return District("small", seed=5)


def serve(district, settings, **options) -> SandboxServer:
    server = SandboxServer(district, slow_delay=0.2, fault_retry_after=0, **options)
    server.start()
    settings.CANVAS_BASE_URL = server.url
    settings.SIS_BASE_URL = server.sis_base_url
    settings.SIS_TOKEN_URL = server.sis_token_url
    settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET = "sandbox-client", "sandbox-secret"
    settings.SIS_MAX_CONCURRENCY = 4
    return server


def import_all(server):
    client = CanvasClient(server.url, "sandbox-token", timeout=5, backoff_base=0.01)
    run = district_import(client=client, full=True, concurrency=2)
    assert run.status in ("succeeded", "partial"), run.message


def busiest_course() -> int:
    from django.db.models import Count

    return (
        Course.objects.filter(workflow_state="available", sis_course_id__isnull=False)
        .annotate(n=Count("assignments"))
        .order_by("-n")
        .values_list("canvas_id", flat=True)[0]
    )


def run_course(course_id: int) -> SyncRun:
    run, _ = passback_request(course_id=course_id, enqueue=False, requested_by="test")
    return passback_execute(run.pk)


def test_a_course_passes_back_and_ic_holds_every_posted_grade_once(district, settings):
    server = serve(district, settings)
    try:
        import_all(server)
        course_id = busiest_course()
        run = run_course(course_id)
        store = server.ic.store

        counts = passback_counts(run)
        assert run.status == "done", run.message
        assert counts["grades"].get("posted", 0) > 0
        assert counts["grades"].get("failed", 0) == 0, list(
            run.grades.filter(status="failed").values_list("detail", flat=True)[:3]
        )
        posted = run.grades.filter(status=GradeOutcome.Status.POSTED)
        for grade in posted:
            assert store.result(grade.result_sourced_id) is not None
            assert store.writes("result", grade.result_sourced_id) == 1

        again = run_course(course_id)
        assert again.grades.filter(status="posted").count() == 0
        assert store.counts()["results"] == posted.count()
    finally:
        server.stop()


def test_with_ic_faults_every_eligible_grade_is_posted_exactly_once(district, settings):
    clean = serve(district, settings)
    try:
        import_all(clean)
    finally:
        clean.stop()
    server = serve(district, settings, faults_ic=0.2, faults_canvas=0.0, fault_seed=11)
    try:
        course_id = busiest_course()
        run = run_course(course_id)
        store = server.ic.store

        assert run.status == "done", run.message
        assert not run.grades.filter(status__in=["pending", "failed"]).exists()
        posted = list(
            run.grades.filter(status="posted").values_list("result_sourced_id", flat=True)
        )
        assert posted
        assert all(store.writes("result", sourced_id) == 1 for sourced_id in posted)
        assert (
            server.ic.stats.as_json()["faults_injected"] > 0
            if hasattr(server.ic.stats, "as_json")
            else True
        )
    finally:
        server.stop()


def test_a_wrong_client_secret_fails_the_run_with_a_message_naming_the_setting(district, settings):
    server = serve(district, settings)
    try:
        import_all(server)
        settings.SIS_CLIENT_SECRET = "wrong"
        run = run_course(busiest_course())

        assert run.status == "failed"
        assert "SIS_CLIENT" in run.message
    finally:
        server.stop()


def test_one_after_another_the_clients_of_a_worker_share_its_token_and_connection(
    district, settings
):
    from sync.passback import sis_client

    server = serve(district, settings)
    try:
        import_all(server)
        class_id = Section.objects.exclude(sis_section_id=None).values_list(
            "sis_section_id", flat=True
        )[0]
        before = server.connections_accepted
        for _ in range(3):  # three tasks of one worker, each with its own client
            with sis_client() as client:
                assert client.categories(class_id)
        tokens = sum(server.ic.stats.tokens.values())
        connected = server.connections_accepted - before
    finally:
        server.stop()

    assert connected == 1
    assert tokens == 1
