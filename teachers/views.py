"""The teacher's sync pages: my courses, a course's sync page, Post Grades, fixes in place, and a
run's progress (page and JSON) and the course's run history.

Views stay thin: every one finds the course through ``teachers.access`` (another teacher's
course, or a run of it, is a 404), reads through the selectors and writes through one service.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from courses.models import Assignment, Course, Person, Section
from sync.passback import QueueUnavailable, passback_request
from sync.policy import policy_get
from teachers.access import CanvasSignInRequired, course_or_404, courses_for, person_id_for
from teachers.course_page import course_page
from teachers.decorators import teacher_required
from teachers.fixes import FixRefused, assignment_fix
from teachers.forms import DueDateForm, PostGradesForm, RenameForm
from teachers.run_selectors import course_runs, run_or_404, run_progress
from teachers.selectors import canvas_course_url, course_summaries

COURSES_PER_PAGE = 50
RUNS_PER_PAGE = 25
SCHEDULED_KEY = "teachers_scheduled_run"


@never_cache
@teacher_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My courses: each with its compliance, open blocking violations and last sync."""
    courses = courses_for(request.user).order_by("name", "canvas_id")
    query = request.GET.get("q", "").strip()
    if query:
        courses = courses.filter(name__icontains=query) | courses.filter(
            course_code__icontains=query
        )
    page = Paginator(courses.values_list("canvas_id", flat=True), COURSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    rows = course_summaries(Course.objects.filter(canvas_id__in=ids).order_by("name", "canvas_id"))
    context = {"courses": rows, "page": page, "query": query, "is_teacher": _is_teacher(request)}
    return render(request, "teachers/home.html", context)


@never_cache
@teacher_required
@require_GET
def course_sync(request: HttpRequest, canvas_id: int) -> HttpResponse:
    """A course's sync page: sections, assignments, what blocks them, Post Grades."""
    return _course_response(request, course_or_404(request.user, canvas_id))


@teacher_required
@require_POST
def post_grades(request: HttpRequest, canvas_id: int) -> HttpResponse:
    """Post Grades: queue a passback run of the chosen sections and assignments."""
    course = course_or_404(request.user, canvas_id)
    form = PostGradesForm(
        request.POST,
        section_ids=_active_section_ids(course),
        assignment_ids=_synced_assignment_ids(course),
    )
    if not form.is_valid():
        errors = [e for field in form.errors.values() for e in field]
        return _course_response(
            request,
            course,
            status=400,
            post_errors=errors,
            checked=set(_ints(request.POST.getlist("assignment"))),
        )
    try:
        run, created = passback_request(
            course_id=course.canvas_id,
            section_ids=form.cleaned_data["section"],
            assignment_ids=form.cleaned_data["assignment"],
            requested_by=_display_name(request),
        )
    except QueueUnavailable as exc:
        return _course_response(
            request,
            course,
            status=503,
            post_errors=[str(exc)],
            checked=set(form.cleaned_data["assignment"]),
        )
    request.session[SCHEDULED_KEY] = {"run": run.pk, "created": created}
    url = reverse("teachers:course", args=[course.canvas_id])
    chosen = form.cleaned_data["section"]
    if set(chosen) != {sid for sid, _label in form.fields["section"].choices}:
        url += "?" + urlencode([("section", s) for s in sorted(chosen)])  # keep the filter
    return HttpResponseRedirect(url)


@teacher_required
@require_POST
def fix(request: HttpRequest, canvas_id: int, assignment_id: int) -> HttpResponse:
    """Fix in place: a new name, or a due date for one section, written to Canvas."""
    course = course_or_404(request.user, canvas_id)
    assignment = get_object_or_404(
        Assignment, course_id=course.canvas_id, canvas_id=assignment_id, deleted=False
    )
    kind = request.POST.get("fix")
    section = None
    if kind == "name":
        form = RenameForm(
            request.POST,
            max_length=policy_get().name_max_length,
            taken=_names_taken(course, assignment),
        )
    elif kind == "due_at":
        form = DueDateForm(request.POST, section_ids=_active_section_ids(course))
    else:
        return _fix_failed(request, course, assignment, kind, "Choose what to fix.", status=400)

    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _fix_failed(request, course, assignment, kind, message, status=400)
    if kind == "due_at":
        section = Section.objects.get(canvas_id=form.cleaned_data["section"])
    try:
        result = assignment_fix(
            user=request.user,
            course=course,
            assignment=assignment,
            name=form.cleaned_data.get("name"),
            due_at=form.cleaned_data.get("due_at"),
            section=section,
        )
    except CanvasSignInRequired as exc:
        return _sign_in_again(request, course, str(exc))
    except FixRefused as exc:
        return _fix_failed(request, course, assignment, kind, str(exc), status=502)

    if _wants_json(request):
        page = course_page(course)
        html = render_to_string(
            "teachers/_sync_panel.html", _panel_context(request, page), request=request
        )
        return JsonResponse({"ok": True, "message": result.message, "html": html})
    messages.success(request, result.message)
    url = reverse("teachers:course", args=[course.canvas_id])
    return HttpResponseRedirect(f"{url}#assignment-{assignment.canvas_id}")


@never_cache
@teacher_required
@require_GET
def run(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's progress; the page polls ``run_progress_json`` while the run is active."""
    sync_run = run_or_404(request.user, run_id)
    context = {"run": sync_run, "course": sync_run.course, "progress": run_progress(sync_run)}
    return render(request, "teachers/run.html", context)


@never_cache
@teacher_required
@require_GET
def run_progress_json(request: HttpRequest, run_id: int) -> JsonResponse:
    return JsonResponse(run_progress(run_or_404(request.user, run_id)))


@never_cache
@teacher_required
@require_GET
def history(request: HttpRequest, canvas_id: int) -> HttpResponse:
    """Every sync run of the course: who, when, status, assignments, grades posted."""
    course = course_or_404(request.user, canvas_id)
    page = Paginator(course_runs(course), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "teachers/history.html", {"course": course, "page": page})


# --- helpers -------------------------------------------------------------------------------------


def _course_response(
    request: HttpRequest,
    course: Course,
    *,
    status: int = 200,
    post_errors: list[str] | None = None,
    checked: set[int] | None = None,
    fix_error: dict | None = None,
) -> HttpResponse:
    page = course_page(
        course,
        section_ids=set(_ints(request.GET.getlist("section"))),
        sort=request.GET.get("sort", "date"),
        descending=request.GET.get("dir") == "desc",
    )
    scheduled = request.session.pop(SCHEDULED_KEY, None) if status == 200 else None
    context = {
        **_panel_context(request, page, checked=checked, fix_error=fix_error),
        "scheduled": scheduled,
        "post_errors": post_errors or [],
    }
    return render(request, "teachers/course.html", context, status=status)


def _panel_context(
    request: HttpRequest, page, *, checked: set[int] | None = None, fix_error: dict | None = None
) -> dict:
    return {
        "course": page.course,
        "page": page,
        "checked": checked,
        "fix_error": fix_error or {},
        "canvas_course_url": canvas_course_url(page.course.canvas_id),
        "sort_urls": _sort_urls(page),
    }


def _sort_urls(page) -> dict[str, str]:
    """Links of the sort headers (without script): the other direction when already sorted."""
    sections = [] if page.all_sections_selected else sorted(page.selected_sections)
    urls = {}
    for key in ("name", "date"):
        flip = page.sort == key and not page.descending
        params = [("section", s) for s in sections]
        params += [("sort", key), ("dir", "desc" if flip else "asc")]
        urls[key] = "?" + urlencode(params)
    return urls


def _fix_failed(
    request: HttpRequest,
    course: Course,
    assignment: Assignment,
    kind: str | None,
    message: str,
    *,
    status: int,
) -> HttpResponse:
    """Say why, keeping what the teacher typed (the form is shown again with it)."""
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    section = request.POST.get("section", "")
    fix_error = {
        "assignment": assignment.canvas_id,
        "kind": kind or "",
        "section": int(section) if section.isdigit() else None,
        "value": request.POST.get("name" if kind == "name" else "due_at", ""),
        "message": message,
    }
    return _course_response(request, course, status=status, fix_error=fix_error)


def _sign_in_again(request: HttpRequest, course: Course, message: str) -> HttpResponse:
    back = reverse("teachers:course", args=[course.canvas_id])
    login = f"{reverse('teachers:login')}?{urlencode({'next': back})}"
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message, "login_url": login}, status=401)
    messages.warning(request, message)
    return HttpResponseRedirect(login)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _active_section_ids(course: Course) -> list[int]:
    return list(
        Section.objects.filter(
            course_id=course.canvas_id,
            deleted=False,
            enrollments__type="student",
            enrollments__state="active",
            enrollments__deleted=False,
        )
        .values_list("canvas_id", flat=True)
        .distinct()
    )


def _synced_assignment_ids(course: Course) -> list[int]:
    return list(
        Assignment.objects.filter(
            course_id=course.canvas_id, post_to_sis=True, deleted=False
        ).values_list("canvas_id", flat=True)
    )


def _names_taken(course: Course, assignment: Assignment) -> set[str]:
    """Names (trimmed, any case) of the course's other synced assignments."""
    return {
        name.strip().casefold()
        for name in Assignment.objects.filter(
            course_id=course.canvas_id, post_to_sis=True, deleted=False
        )
        .exclude(canvas_id=assignment.canvas_id)
        .values_list("name", flat=True)
    }


def _display_name(request: HttpRequest) -> str:
    """Who asked, for the run history: the teacher's Canvas name, else the account's."""
    user = request.user
    login = getattr(user, "canvas_login", None)
    if login is not None:
        name = Person.objects.filter(canvas_id=login.person_id).values_list("name", flat=True)
        if name:
            return name[0]
    return user.get_full_name() or user.get_username()


def _is_teacher(request: HttpRequest) -> bool:
    return person_id_for(request.user) is not None
