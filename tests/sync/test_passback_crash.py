"""Crash safety: a django-q2 worker killed with SIGKILL mid-run; the run still ends with every
grade sent once to the simulated Infinite Campus and every outcome terminal."""

import subprocess

import pytest

from sandbox.generator import District
from sandbox.server import SandboxServer
from sync.canvas import CanvasClient
from sync.importer import district_import
from sync.models import GradeOutcome, SyncRun
from sync.passback import passback_request
from tests.sync.qcluster import kill, start_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def start_sis_worker(server: SandboxServer) -> subprocess.Popen:
    return start_worker(
        Q_TIMEOUT="20",
        Q_RETRY="25",
        SIS_BASE_URL=server.sis_base_url,
        SIS_TOKEN_URL=server.sis_token_url,
        SIS_CLIENT_ID="sandbox-client",
        SIS_CLIENT_SECRET="sandbox-secret",
        SIS_MAX_CONCURRENCY="2",
    )


def test_a_worker_killed_mid_run_is_restarted_and_the_run_sends_every_grade_once(settings):
    district = District("small", seed=5)
    # Slow answers from IC stretch the run so the kill lands in the middle of it.
    server = SandboxServer(
        district, faults_ic=0.3, faults_canvas=0.0, ic_fault_kinds=["slow"], slow_delay=0.05
    )
    server.start()
    worker = None
    try:
        client = CanvasClient(server.url, "sandbox-token", timeout=5, backoff_base=0.01)
        assert district_import(client=client, full=True, concurrency=1).status == "succeeded"
        settings.SIS_BASE_URL = server.sis_base_url
        from django.db.models import Count

        from courses.models import Course

        course_id = (
            Course.objects.filter(workflow_state="available", sis_course_id__isnull=False)
            .annotate(n=Count("submissions"))
            .order_by("-n")
            .values_list("canvas_id", flat=True)[0]
        )
        worker = start_sis_worker(server)
        run, _ = passback_request(course_id=course_id, enqueue=False, requested_by="crash test")
        from django_q.tasks import async_task

        # Queue it on the broker the worker reads (the test settings run tasks inline).
        async_task("sync.tasks.passback_start", run.pk, sync=False)

        def posted() -> int:
            return GradeOutcome.objects.filter(run=run, status="posted").count()

        assert wait_for(lambda: posted() >= 20, timeout=60), "the worker never started sending"
        kill(worker)
        at_kill = posted()
        total = GradeOutcome.objects.filter(run=run).count()
        assert at_kill < total, "the run finished before the kill; make it slower"

        worker = start_sis_worker(server)
        assert wait_for(
            lambda: SyncRun.objects.get(pk=run.pk).finished_at is not None, timeout=120
        ), "the run never finished after the restart"

        run.refresh_from_db()
        assert run.status == "done"
        assert not GradeOutcome.objects.filter(run=run, status="pending").exists()
        store = server.ic.store
        sent = list(
            GradeOutcome.objects.filter(run=run, status="posted").values_list(
                "result_sourced_id", flat=True
            )
        )
        assert all(store.result(s) is not None for s in sent)
        # Grades IC confirmed before the kill but not yet recorded are found there on resume
        # (GET before PUT), so none is sent twice.
        twice = [s for s in sent if store.writes("result", s) > 1]
        assert twice == []
        assert store.counts()["results"] == len(sent)
    finally:
        if worker is not None and worker.poll() is None:
            kill(worker)
        server.stop()
