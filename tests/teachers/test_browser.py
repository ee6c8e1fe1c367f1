"""The sync pages in headless Chromium against the sandbox Canvas and Infinite Campus: sign in
through the sandbox's Canvas sign-in page, filter by section, sort, deselect an assignment, fix
a name in place, post grades and watch the run reach "done" with the counts the page promised.

Writes the screenshots of docs/screenshots/. Deselect with ``-m "not browser"``.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from courses.models import Person, Section
from sandbox.generator import District
from sandbox.server import SandboxServer
from sync.models import GradeOutcome, SyncRun, Violation
from sync.passback import passback_execute
from teachers.selectors import natural_key
from tests.teachers.signin_helpers import ADMIN_TOKEN, import_courses, teacher_of

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NEW_NAME = "Essay 3 (revised)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # CI sets GPB_REQUIRE_BROWSER: there a missing browser fails the run instead of skipping.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("GPB_REQUIRE_BROWSER"),
        reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def district(settings) -> Iterator[SandboxServer]:
    """Canvas and Infinite Campus of the small sandbox district, the settings pointing at both."""
    with SandboxServer(District("small", seed=5), token=ADMIN_TOKEN, fault_retry_after=0) as server:
        settings.CANVAS_BASE_URL = server.url
        settings.CANVAS_TOKEN = ADMIN_TOKEN
        settings.CANVAS_MAX_RETRIES = 1
        settings.CANVAS_TIMEOUT = 10.0
        settings.SIS_BASE_URL = server.sis_base_url
        settings.SIS_TOKEN_URL = server.sis_token_url
        settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET = "sandbox-client", "sandbox-secret"
        settings.SIS_MAX_CONCURRENCY = 4
        yield server


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the test's own ORM calls are still plain
    # synchronous code (the pages are served by the live server's thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, Django keeps this thread's connections apart from
            # the ones it had before: close them here, or they outlive the test database.
            connections.close_all()


def busy_course(server: SandboxServer) -> int:
    """A published, SIS-linked course with three sections or more and an over-long name."""
    for course_id in server.district.course_ids():
        data = server.district.course(course_id)
        linked = [s for s in data.sections if s.get("sis_section_id")]
        too_long = [
            a
            for a in data.assignments
            if a.get("post_to_sis") and a.get("published") and len(a["name"]) > 30
        ]
        if data.course.get("workflow_state") == "available" and len(linked) >= 3 and too_long:
            return course_id
    raise AssertionError("the sandbox has no such course")


def only_blocked_by_its_name(course_id: int) -> int:
    """A synced assignment whose one blocking problem is its long name."""
    rows = Violation.objects.filter(
        course_id=course_id, resolved_at__isnull=True, severity="blocking"
    ).values_list("assignment_id", "rule")
    rules: dict[int | None, set[str]] = {}
    for assignment_id, rule in rows:
        rules.setdefault(assignment_id, set()).add(rule)
    return next(a for a, found in rules.items() if found == {"name_too_long"})


def summary_count(page) -> int:
    text = page.locator("#selection-summary").inner_text()
    return int(re.search(r"(\d+) changed grades? will be sent", text).group(1))


def names_in_order(page) -> list[str]:
    return page.locator("tbody.assignment:not([hidden]) .assignment__name").all_inner_texts()


def test_a_teacher_fixes_a_name_and_posts_grades_from_the_browser(
    district, browser, live_server, monkeypatch
):
    course_id = busy_course(district)
    # The sandbox's grades are dated around its reference day: re-grade some of them now, so
    # that they fall inside the sync window.
    assert district.district.change_grades(0.4) > 0
    import_courses(district, [course_id])
    fixable = only_blocked_by_its_name(course_id)
    teacher = Person.objects.get(canvas_id=teacher_of(district, course_id))
    queued: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: queued.append(args))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in: our page sends the browser to the sandbox's Canvas, which sends it back.
    page.goto(live_server.url + reverse("teachers:home"))
    page.get_by_role("button", name="Sign in with Canvas").click()
    page.get_by_label("Find a teacher by name").fill(teacher.name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Sign in as {teacher.name}").first.click()
    page.wait_for_url(f"{live_server.url}/teacher/")
    page.get_by_role("heading", name="My courses").wait_for()
    page.get_by_role("link", name=page.locator("a.strong-link").first.inner_text()).click()
    page.locator("#sync-panel").wait_for()
    assert page.locator("#select-all").is_visible()
    assert page.locator("#select-all").is_checked()

    # Filter by section: one section out, and the rows given only to it go.
    sections = list(
        Section.objects.filter(course_id=course_id, sis_section_id__isnull=False)
        .order_by("name")
        .values_list("canvas_id", "name")
    )
    left_out, left_out_name = sections[-1]
    everything = summary_count(page)
    page.locator("#filter-form").get_by_label(re.compile(re.escape(left_out_name))).uncheck()
    post_sections = page.locator('#post-sections input[name="section"]')
    assert str(left_out) not in [
        post_sections.nth(i).get_attribute("value") for i in range(post_sections.count())
    ]
    assert summary_count(page) < everything
    for item in page.locator(f'#sync-panel [data-section="{left_out}"]').all():
        assert not item.is_visible()  # its problems go with it

    # Sort by name, ascending then descending, without a reload.
    page.evaluate("window.__samePage = true")
    page.get_by_role("link", name="Assignment name").click()
    ascending = names_in_order(page)
    keys = [natural_key(name) for name in ascending]
    assert keys == sorted(keys)
    assert page.locator("thead th.col-name").get_attribute("aria-sort") == "ascending"
    page.get_by_role("link", name="Assignment name").click()
    assert [natural_key(name) for name in names_in_order(page)] == sorted(keys, reverse=True)
    assert page.locator("thead th.col-name").get_attribute("aria-sort") == "descending"

    # Fix a name in place: Canvas takes it, the course is read again, the row unblocks.
    row = page.locator(f"#assignment-{fixable}")
    assert "Blocked" in row.locator(".assignment__meta").inner_text()
    before_fix = summary_count(page)
    row.get_by_label(re.compile("New name for")).fill(NEW_NAME)
    row.get_by_role("button", name="Rename in Canvas").click()
    page.locator("#fix-result").wait_for()
    row = page.locator(f"#assignment-{fixable}")
    assert row.locator(".assignment__name").inner_text() == NEW_NAME
    assert "assignment--blocked" not in row.get_attribute("class")  # no longer held back
    assert district.district.assignment(course_id, fixable)["name"] == NEW_NAME
    assert page.evaluate("window.__samePage") is True
    assert page.locator("thead th.col-name").get_attribute("aria-sort") == "descending"
    after_fix = summary_count(page)
    assert after_fix >= before_fix

    # Deselect one assignment that has grades to send: the promise shrinks accordingly.
    candidates = page.locator("tbody.assignment:not([hidden]) .send", has_text="changed grade")
    drop_row = candidates.first.locator("xpath=ancestor::tbody")
    dropped = int(drop_row.get_attribute("data-id"))
    assert dropped != fixable
    drop_count = int(re.match(r"(\d+)", candidates.first.inner_text()).group(1))
    drop_row.locator("input.pick").uncheck()
    promised = summary_count(page)
    assert promised == after_fix - drop_count
    assert page.locator("#select-all").evaluate("box => box.indeterminate") is True
    page.get_by_role("link", name="Due date").click()
    assert page.locator("thead th.col-due").get_attribute("aria-sort") == "ascending"
    assert summary_count(page) == promised
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "teacher-course-page.png"))

    # Post Grades: "Scheduled", then the progress page follows the run live.
    page.get_by_role("button", name="Post Grades").click()
    page.locator("#scheduled").wait_for()
    assert "Scheduled" in page.locator("#scheduled").inner_text()
    run = SyncRun.objects.get(course_id=course_id)
    assert left_out not in run.section_ids and dropped not in run.assignment_ids
    assert fixable in run.assignment_ids
    page.get_by_role("link", name="Click to see progress").click()
    page.locator("#run").wait_for()
    assert page.locator("#run").get_attribute("data-finished") == "false"
    page.evaluate("window.__samePage = true")

    assert queued, "Post Grades queued no task"
    passback_execute(run.pk)  # what the django-q2 worker does

    page.wait_for_selector('#run[data-finished="true"]')
    assert page.evaluate("window.__samePage") is True  # updated in place, never reloaded
    assert page.locator('[data-field="status_label"]').first.inner_text() == "Done"
    posted = GradeOutcome.objects.filter(run=run, status="posted").count()
    assert posted == promised
    assert page.locator('[data-count="posted"]').inner_text() == str(promised)
    assert page.locator('[data-count="failed"]').inner_text() == "0"
    assert district.ic.store.counts()["results"] == promised
    skipped = GradeOutcome.objects.filter(run=run, status="skipped").count()
    assert page.locator('[data-field="skipped_count"]').inner_text() == str(skipped)
    assert page.locator("#run-assignments tbody tr").count() == run.assignments.count()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "teacher-run-progress.png"))

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(live_server.url + reverse("teachers:course", args=[course_id]))
    phone.locator("#sync-panel").wait_for()
    phone.screenshot(path=str(SCREENSHOTS / "teacher-course-page-phone.png"))
    assert not errors, errors


def test_the_pages_work_without_javascript(district, browser, live_server, monkeypatch):
    """Progressive enhancement: with scripts off the filter, sort and Post Grades still work."""
    course_id = busy_course(district)
    import_courses(district, [course_id])
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: None)
    teacher = Person.objects.get(canvas_id=teacher_of(district, course_id))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + reverse("teachers:home"))
    page.get_by_role("button", name="Sign in with Canvas").click()
    page.get_by_label("Find a teacher by name").fill(teacher.name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Sign in as {teacher.name}").first.click()
    page.goto(live_server.url + reverse("teachers:course", args=[course_id]))

    first = Section.objects.filter(course_id=course_id).order_by("name").first()
    for box in page.locator('#filter-form input[name="section"]').all():
        if box.get_attribute("value") != str(first.canvas_id):
            box.uncheck()
    page.get_by_role("button", name="Apply filter").click()
    assert f"section={first.canvas_id}" in page.url
    page.get_by_role("link", name="Assignment name").click()
    assert "sort=name" in page.url
    page.get_by_role("button", name="Post Grades").click()
    page.locator("#scheduled").wait_for()
    run = SyncRun.objects.get(course_id=course_id)
    assert run.section_ids == [first.canvas_id]
    context.close()
