"""Fixes in place against the sandbox Canvas over HTTP: the teacher's own token writes the new
name or due date, the course is imported again and the violation resolves; refusals are told
in plain words and nothing typed is lost."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import Assignment, AssignmentOverride, Course
from sandbox.server import SandboxServer
from sync.canvas import CanvasError
from sync.models import Violation
from teachers.course_page import course_page
from teachers.models import CanvasLogin
from tests.teachers.signin_helpers import (
    import_courses,
    sandbox,  # noqa: F401 (fixture)
    sign_in_with_canvas,
    teacher_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def synced_assignment(server: SandboxServer, test: Callable[[dict, dict], bool]) -> tuple:
    """(course id, assignment) of the first published, SIS-linked course with a synced
    assignment passing ``test(assignment, course data)``."""
    for course_id in server.district.course_ids():
        data = server.district.course(course_id)
        if data.course.get("workflow_state") != "available" or not data.course.get("sis_course_id"):
            continue
        for item in data.assignments:
            if item.get("post_to_sis") and item.get("published") and test(item, data):
                return course_id, item
    raise AssertionError("the sandbox has no such assignment")


def signed_in_teacher(server: SandboxServer, course_id: int) -> Client:
    import_courses(server, [course_id])
    client = Client()
    response = sign_in_with_canvas(client, teacher_of(server, course_id))
    assert response.status_code == 302, response.content
    return client


def open_rules(assignment_id: int) -> set[str]:
    return set(
        Violation.objects.filter(assignment_id=assignment_id, resolved_at__isnull=True).values_list(
            "rule", flat=True
        )
    )


def test_renaming_a_too_long_name_writes_to_canvas_and_resolves_the_violation(sandbox):  # noqa: F811
    course_id, item = synced_assignment(sandbox, lambda a, _: len(a["name"]) > 30)
    client = signed_in_teacher(sandbox, course_id)
    assert "name_too_long" in open_rules(item["id"])
    course = Course.objects.get(canvas_id=course_id)
    before = course_page(course)
    row = next(r for r in before.assignments if r.canvas_id == item["id"])
    clean_after_fix = {i.rule for i in row.issues if i.is_blocking} == {"name_too_long"}

    response = client.post(
        reverse("teachers:fix", args=[course_id, item["id"]]),
        {"fix": "name", "name": "Short and sweet"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"#assignment-{item['id']}")
    assert sandbox.district.assignment(course_id, item["id"])["name"] == "Short and sweet"
    assert Assignment.objects.get(canvas_id=item["id"]).name == "Short and sweet"
    assert "name_too_long" not in open_rules(item["id"])
    page = client.get(response["Location"]).content.decode()
    assert "Renamed to “Short and sweet” in Canvas" in page
    after = course_page(course)
    assert after.compliant == before.compliant + (1 if clean_after_fix else 0)


def test_a_fix_sent_by_the_page_script_answers_json_with_the_refreshed_panel(sandbox):  # noqa: F811
    course_id, item = synced_assignment(sandbox, lambda a, _: len(a["name"]) > 30)
    client = signed_in_teacher(sandbox, course_id)

    response = client.post(
        reverse("teachers:fix", args=[course_id, item["id"]]),
        {"fix": "name", "name": "Unit test quiz"},
        headers={"accept": "application/json"},
    )

    data = response.json()
    assert response.status_code == 200 and data["ok"] is True
    assert "Unit test quiz" in data["html"] and 'id="assignments"' in data["html"]
    assert "Renamed" in data["message"]


def test_a_missing_due_date_is_set_on_the_assignment_for_every_section(sandbox):  # noqa: F811
    course_id, item = synced_assignment(
        sandbox, lambda a, _: a.get("due_at") is None and not a.get("overrides")
    )
    client = signed_in_teacher(sandbox, course_id)
    violation = Violation.objects.filter(
        assignment_id=item["id"], rule="missing_due_date", resolved_at__isnull=True
    ).first()
    assert violation is not None

    response = client.post(
        reverse("teachers:fix", args=[course_id, item["id"]]),
        {"fix": "due_at", "due_at": "2026-12-04T23:59", "section": violation.section_id},
    )

    assert response.status_code == 302
    due = Assignment.objects.get(canvas_id=item["id"]).due_at
    assert due is not None and due.isoformat().startswith("2026-12-05T05:59")  # 11:59 PM Central
    assert "missing_due_date" not in open_rules(item["id"])


def test_a_section_whose_override_removes_the_due_date_gets_the_override_set(sandbox):  # noqa: F811
    def override_without_date(a: dict, _data: dict) -> bool:
        return any(
            o.get("course_section_id") and "due_at" in o and o["due_at"] is None
            for o in a.get("overrides") or []
        )

    course_id, item = synced_assignment(sandbox, override_without_date)
    client = signed_in_teacher(sandbox, course_id)
    override = AssignmentOverride.objects.filter(
        assignment_id=item["id"], target="section", due_at_overridden=True, due_at__isnull=True
    ).first()
    base_before = Assignment.objects.get(canvas_id=item["id"]).due_at

    response = client.post(
        reverse("teachers:fix", args=[course_id, item["id"]]),
        {"fix": "due_at", "due_at": "2026-12-01T08:00", "section": override.section_id},
    )

    assert response.status_code == 302
    override.refresh_from_db()
    assert override.due_at is not None
    assert Assignment.objects.get(canvas_id=item["id"]).due_at == base_before
    assert not Violation.objects.filter(
        assignment_id=item["id"],
        section_id=override.section_id,
        rule="missing_due_date",
        resolved_at__isnull=True,
    ).exists()


def test_a_name_still_too_long_is_refused_before_reaching_canvas(sandbox):  # noqa: F811
    course_id, item = synced_assignment(sandbox, lambda a, _: len(a["name"]) > 30)
    client = signed_in_teacher(sandbox, course_id)
    typed = "This name is still far too long for Infinite Campus"

    response = client.post(
        reverse("teachers:fix", args=[course_id, item["id"]]), {"fix": "name", "name": typed}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "at most 30 characters" in page
    assert f'value="{typed}"' in page  # nothing the teacher typed is lost
    assert sandbox.district.assignment(course_id, item["id"])["name"] == item["name"]


def test_a_canvas_refusal_is_told_in_plain_words_and_keeps_the_typed_name(
    sandbox,  # noqa: F811
    monkeypatch,
):
    course_id, item = synced_assignment(sandbox, lambda a, _: len(a["name"]) > 30)
    client = signed_in_teacher(sandbox, course_id)

    class Refusing:
        def update_assignment(self, *args, **kwargs):
            raise CanvasError(
                "Canvas refused the request (HTTP 403) at http://x/api: not allowed",
                kind="http",
                status=403,
            )

        def close(self):
            pass

    monkeypatch.setattr("teachers.fixes.canvas_client_for", lambda user: Refusing())
    url = reverse("teachers:fix", args=[course_id, item["id"]])

    page = client.post(url, {"fix": "name", "name": "Quiz one"})
    text = page.content.decode()
    assert page.status_code == 502
    assert "Canvas does not let you change this assignment." in text
    assert 'value="Quiz one"' in text

    answer = client.post(
        url, {"fix": "name", "name": "Quiz one"}, headers={"accept": "application/json"}
    )
    assert answer.json() == {
        "ok": False,
        "error": "Canvas does not let you change this assignment.",
    }
    assert Assignment.objects.get(canvas_id=item["id"]).name == item["name"]


def test_an_expired_canvas_sign_in_sends_the_teacher_to_sign_in_again(sandbox):  # noqa: F811
    course_id, item = synced_assignment(sandbox, lambda a, _: len(a["name"]) > 30)
    client = signed_in_teacher(sandbox, course_id)
    CanvasLogin.objects.update(access_token_encrypted="", refresh_token_encrypted="")
    url = reverse("teachers:fix", args=[course_id, item["id"]])

    response = client.post(url, {"fix": "name", "name": "Quiz one"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("teachers:login"))

    answer = client.post(
        url, {"fix": "name", "name": "Quiz one"}, headers={"accept": "application/json"}
    )
    assert answer.status_code == 401
    assert "login_url" in answer.json()
    assert sandbox.district.assignment(course_id, item["id"])["name"] == item["name"]
