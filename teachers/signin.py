"""Signing in to the teacher pages: Canvas OAuth2 for teachers, a Django account for staff.

The OAuth flow: ``canvas_signin_start`` keeps a random ``state`` in the session and returns the
Canvas authorize URL; Canvas sends the browser back to the callback, where
``canvas_signin_finish`` checks the state, trades the code for tokens, asks Canvas who the user
is, matches them to the imported Person and saves the sign-in. Problems a person can act on are
raised as ``SignInProblem`` with words for them.
"""

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone

from courses.models import Course, Enrollment, Person
from sync.canvas import CanvasClient, CanvasError
from teachers.access import ACTIVE_TEACHER_STATES, is_district_staff
from teachers.models import CanvasLogin
from teachers.tokens import canvas_login_save, oauth_client

logger = logging.getLogger(__name__)

SESSION_KEY = "teachers_canvas_oauth"
ASK_FOR_IMPORT = "Ask your district admin to run an import, then sign in again."


class SignInProblem(Exception):
    """A sign-in that cannot go on, with a title and plain words for the person signing in."""

    def __init__(self, title: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SignedIn:
    user: AbstractBaseUser
    next_url: str


def canvas_signin_start(*, session: SessionBase, redirect_uri: str, next_url: str = "") -> str:
    """Remember a fresh state (and where to go afterwards); return Canvas's authorize URL."""
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {"state": state, "next": next_url}
    return oauth_client().authorize_url(redirect_uri=redirect_uri, state=state)


def canvas_signin_finish(
    *, session: SessionBase, query: Mapping[str, str], redirect_uri: str
) -> SignedIn:
    """Complete the sign-in from the callback's query string; SignInProblem when it cannot."""
    # One use only: a replayed or second callback finds nothing to complete.
    pending = session.pop(SESSION_KEY, None)
    state = query.get("state") or ""
    if not isinstance(pending, dict) or not secrets.compare_digest(
        str(pending.get("state", "")).encode(), state.encode()
    ):
        raise SignInProblem(
            "Sign-in could not be verified",
            "This sign-in did not start here or was already used, so it was stopped to keep "
            "your account safe. Start again with “Sign in with Canvas”.",
        )
    error = query.get("error")
    if error == "access_denied":
        raise SignInProblem(
            "Sign-in cancelled",
            "You did not allow the dashboard to use your Canvas account, so you are not signed "
            "in. To use the sync pages, sign in with Canvas and choose Authorize.",
            status=403,
        )
    if error or not query.get("code"):
        raise SignInProblem(
            "Canvas did not sign you in",
            f"Canvas answered “{error or 'no code'}”. Try again; if it keeps happening, tell "
            "your district admin.",
        )
    signed_in_user = _canvas_user(code=query["code"], redirect_uri=redirect_uri)
    return SignedIn(signed_in_user, str(pending.get("next") or ""))


def _canvas_user(*, code: str, redirect_uri: str) -> AbstractBaseUser:
    try:
        tokens = oauth_client().exchange_code(
            code=code, redirect_uri=redirect_uri, now=timezone.now()
        )
        # The teacher is waiting on the page: a couple of retries, not the import's patience.
        with CanvasClient(
            settings.CANVAS_BASE_URL,
            tokens.access_token,
            timeout=settings.CANVAS_TIMEOUT,
            max_retries=min(settings.CANVAS_MAX_RETRIES, 2),
        ) as client:
            me = client.user_self()
    except CanvasError as exc:
        logger.warning("Canvas sign-in failed: %s", exc)
        raise SignInProblem(
            "Canvas did not sign you in",
            f"{exc}. Try again; if it keeps happening, tell your district admin.",
            status=502,
        ) from exc
    canvas_id = me.get("id")
    if not isinstance(canvas_id, int):
        raise SignInProblem(
            "Canvas did not sign you in", "Canvas did not say who you are.", status=502
        )
    person = Person.objects.filter(canvas_id=canvas_id).first()
    name = person.name if person else str(me.get("name") or f"Canvas user {canvas_id}")
    if person is None or person.deleted:
        raise SignInProblem(
            "We do not know you yet",
            f"{name}, your Canvas account has not been imported into the dashboard yet. "
            f"{ASK_FOR_IMPORT}",
            status=403,
        )
    if not _teaches_a_course(person.canvas_id):
        raise SignInProblem(
            "No courses to show",
            f"{name}, the dashboard has no course where you are an active teacher. "
            f"{ASK_FOR_IMPORT}",
            status=403,
        )
    user = teacher_user_save(person=person)
    if not user.is_active:
        raise SignInProblem(
            "Your account is turned off",
            "Your account on the dashboard has been turned off. Ask your district admin.",
            status=403,
        )
    canvas_login_save(user=user, person_id=person.canvas_id, tokens=tokens)
    logger.info("Canvas user %s signed in as %s", person.canvas_id, user.get_username())
    return user


def _teaches_a_course(person_id: int) -> bool:
    return (
        Enrollment.objects.filter(
            person_id=person_id,
            type=Enrollment.Type.TEACHER,
            state__in=ACTIVE_TEACHER_STATES,
            deleted=False,
            course__deleted=False,
        )
        .exclude(course__workflow_state=Course.State.DELETED)
        .exists()
    )


def teacher_user_save(*, person: Person) -> AbstractBaseUser:
    """The Django user of the teacher (made on first sign-in, named ``canvas-<id>``), with the
    name from the import; it has no password: teachers only sign in through Canvas."""
    user_model = get_user_model()
    with transaction.atomic():
        login = CanvasLogin.objects.filter(person_id=person.canvas_id).select_related("user")
        existing = login.first()
        if existing is not None:
            user = existing.user
        else:
            user, created = user_model.objects.get_or_create(username=f"canvas-{person.canvas_id}")
            if created:
                user.set_unusable_password()
        last, _, first = (person.sortable_name or "").partition(", ")
        user.first_name = (first or person.name)[:150]
        user.last_name = (last if first else "")[:150]
        if person.email and not user.email:
            user.email = person.email[:254]
        user.save()
    return user


def staff_signin_allowed(user: AbstractBaseUser) -> bool:
    """Password sign-in on the teacher pages is for district staff only."""
    return is_district_staff(user)
