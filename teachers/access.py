"""Who may see and act on which course on the teacher pages.

A teacher signed in with Canvas acts on the courses where their Person holds an active teacher
enrollment; district staff (superusers and the "district admin" group) signed in with a Django
account act on every course. Every teacher view goes through ``courses_for`` or
``course_or_404``, so another teacher's course is simply not found.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from courses.models import Course, Enrollment
from sync.canvas import CanvasClient
from sync.importer import canvas_client as district_canvas_client
from sync.permissions import DISTRICT_ADMIN_GROUP
from teachers.models import CanvasLogin
from teachers.tokens import CanvasSignInRequired, teacher_canvas_client

__all__ = [
    "ACTIVE_TEACHER_STATES",
    "CanvasSignInRequired",
    "canvas_client_for",
    "course_or_404",
    "courses_for",
    "is_district_staff",
    "person_id_for",
]

ACTIVE_TEACHER_STATES = ("active",)


def is_district_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Superusers and active staff in the district admin group see every course."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.is_staff and user.groups.filter(name=DISTRICT_ADMIN_GROUP).exists()


def person_id_for(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The Canvas user id of the signed-in teacher, or None for staff without a Canvas sign-in."""
    if not user.is_authenticated:
        return None
    login = getattr(user, "canvas_login", None)
    return login.person_id if login else None


def courses_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Course]:
    """The courses the user may see and act on (none for anonymous users)."""
    courses = Course.objects.filter(deleted=False).exclude(workflow_state=Course.State.DELETED)
    if is_district_staff(user):
        return courses
    person_id = person_id_for(user)
    if person_id is None:
        return courses.none()
    teaches = Enrollment.objects.filter(
        course_id=OuterRef("canvas_id"),
        person_id=person_id,
        type=Enrollment.Type.TEACHER,
        state__in=ACTIVE_TEACHER_STATES,
        deleted=False,
    )
    return courses.filter(Exists(teaches))


def course_or_404(user: AbstractBaseUser | AnonymousUser, canvas_id: int) -> Course:
    """The course if the user may act on it; Http404 otherwise (never a 403 that confirms it
    exists)."""
    course = courses_for(user).select_related("account", "term").filter(canvas_id=canvas_id).first()
    if course is None:
        raise Http404("No such course among yours.")
    return course


def canvas_client_for(user: AbstractBaseUser | AnonymousUser) -> CanvasClient:
    """A Canvas client that acts as the user: the teacher's own (fresh) token, or the district
    token for district staff without a Canvas sign-in.

    Raises CanvasSignInRequired (a CanvasError whose message asks the teacher to sign in with
    Canvas again) when there is no usable sign-in; the client raises it too when Canvas keeps
    rejecting the teacher's token after one refresh. Close the client when done.
    """
    login = None
    if user.is_authenticated:
        login = CanvasLogin.objects.filter(user_id=user.pk).first()
    if login is not None:
        return teacher_canvas_client(login)
    if is_district_staff(user):
        return district_canvas_client()
    raise CanvasSignInRequired("Sign in with Canvas to make changes in Canvas.")
