"""Who sees which course, and the Canvas client that acts as the signed-in user: the teacher's
own token (refreshed before expiry and once on a 401), or the district token for staff."""

from datetime import timedelta

import pytest
import responses
from cryptography.fernet import Fernet
from django.contrib.auth.models import AnonymousUser, Group, User
from django.http import Http404
from django.test import Client
from django.utils import timezone

from sync.canvas import CanvasError
from sync.canvas_oauth import CanvasTokens
from sync.permissions import DISTRICT_ADMIN_GROUP
from teachers.access import CanvasSignInRequired, canvas_client_for, course_or_404, courses_for
from teachers.crypto import token_decrypt, token_encrypt
from teachers.models import CanvasLogin
from teachers.tokens import canvas_login_refresh, canvas_login_save
from tests.api.factories import course, enrollment, person, school, section
from tests.teachers.signin_helpers import (
    ADMIN_TOKEN,
    courses_of,
    import_courses,
    sandbox,  # noqa: F401 (fixture)
    sign_in_with_canvas,
    teacher_of,
)

COURSE = 1001
# Tests that talk to the sandbox: its server thread is outside the test's transaction.
over_http = pytest.mark.django_db(transaction=True)


def staff() -> User:
    user = User.objects.create_user("dana", password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=DISTRICT_ADMIN_GROUP)[0])
    return user


def teacher_user(person_id: int, *, tokens: CanvasTokens | None = None) -> User:
    user = User.objects.create_user(f"canvas-{person_id}")
    canvas_login_save(
        user=user,
        person_id=person_id,
        tokens=tokens or CanvasTokens("access-1", "refresh-1", None, person_id, ""),
    )
    return user


# -- courses_for and course_or_404 (ORM only) ---------------------------------------------------


@pytest.fixture
def two_teachers(db):
    """Course 10 taught by person 1, course 20 by person 2, course 30 by nobody."""
    district = school(100)
    owned = {}
    for canvas_id, teacher_id in ((10, 1), (20, 2), (30, None)):
        row = course(canvas_id, district)
        sec = section(canvas_id * 10, row)
        if teacher_id is not None:
            owned[teacher_id] = person(teacher_id)
            enrollment(owned[teacher_id], sec, "teacher")
    return teacher_user(1), teacher_user(2)


def test_a_teacher_sees_only_the_courses_they_teach(two_teachers):
    first, _ = two_teachers

    assert list(courses_for(first).values_list("canvas_id", flat=True)) == [10]
    assert course_or_404(first, 10).canvas_id == 10


def test_another_teachers_course_is_not_found(two_teachers):
    first, _ = two_teachers

    with pytest.raises(Http404):
        course_or_404(first, 20)


def test_district_staff_see_every_course(two_teachers):
    dana = staff()

    assert sorted(courses_for(dana).values_list("canvas_id", flat=True)) == [10, 20, 30]
    assert course_or_404(dana, 30).canvas_id == 30


def test_anonymous_users_see_no_course(two_teachers):
    assert not courses_for(AnonymousUser()).exists()
    with pytest.raises(Http404):
        course_or_404(AnonymousUser(), 10)


# -- canvas_client_for without Canvas (ORM and responses) ---------------------------------------


@pytest.mark.django_db
def test_staff_without_a_canvas_sign_in_get_the_district_token(settings):
    settings.CANVAS_TOKEN = "district-token"

    client = canvas_client_for(staff())

    assert client._token == "district-token"
    assert not hasattr(client, "login")


@pytest.mark.django_db
def test_users_without_a_canvas_sign_in_must_sign_in_with_canvas():
    plain = User.objects.create_user("plain")

    for who in (AnonymousUser(), plain):
        with pytest.raises(CanvasSignInRequired, match="Sign in with Canvas"):
            canvas_client_for(who)


@pytest.mark.django_db
def test_a_teacher_client_carries_the_teachers_own_token():
    user = teacher_user(7, tokens=CanvasTokens("teacher-7", "r", None, 7, ""))

    assert canvas_client_for(user)._token == "teacher-7"


@pytest.mark.django_db
def test_a_token_that_cannot_be_decrypted_asks_the_teacher_to_sign_in_again(settings):
    user = teacher_user(7)
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(CanvasSignInRequired, match="sign in with Canvas again"):
        canvas_client_for(user)


@pytest.mark.django_db
def test_a_401_after_a_fresh_refresh_means_signing_in_again(settings):
    settings.CANVAS_BASE_URL = base = "https://canvas.example.edu"
    user = teacher_user(7)
    rejected = {"errors": [{"message": "Invalid access token."}]}
    challenge = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
    with responses.RequestsMock() as mocked:
        mocked.get(f"{base}/api/v1/users/self", status=401, json=rejected, headers=challenge)
        mocked.post(f"{base}/login/oauth2/token", json={"access_token": "new", "expires_in": 3600})
        client = canvas_client_for(user)

        with pytest.raises(CanvasSignInRequired):
            client.user_self()

        assert [call.request.method for call in mocked.calls] == ["GET", "POST", "GET"]
        assert mocked.calls[2].request.headers["Authorization"] == "Bearer new"


@pytest.mark.django_db
def test_a_canvas_that_is_down_during_a_refresh_is_not_a_sign_in_problem(settings):
    settings.CANVAS_BASE_URL = base = "https://canvas.example.edu"
    past = timezone.now() - timedelta(minutes=5)
    user = teacher_user(7, tokens=CanvasTokens("old", "r", past, 7, ""))
    with responses.RequestsMock() as mocked:
        mocked.post(f"{base}/login/oauth2/token", status=503)

        with pytest.raises(CanvasError) as caught:
            canvas_client_for(user)

    assert not isinstance(caught.value, CanvasSignInRequired)


# -- canvas_client_for against the sandbox over HTTP --------------------------------------------


@pytest.fixture
def signed_in(sandbox):  # noqa: F811
    """A teacher signed in through the sandbox's real OAuth flow (tokens from Canvas)."""
    user_id = teacher_of(sandbox, COURSE)
    import_courses(sandbox, courses_of(sandbox, user_id))
    assert sign_in_with_canvas(Client(), user_id).status_code == 302
    return sandbox, User.objects.get(username=f"canvas-{user_id}"), user_id


@over_http
def test_the_teacher_client_acts_as_the_teacher(signed_in):
    server, user, user_id = signed_in

    assert canvas_client_for(user).user_self()["id"] == user_id


@over_http
def test_an_expired_token_is_refreshed_and_saved_encrypted(signed_in):
    server, user, user_id = signed_in
    old = token_decrypt(user.canvas_login.access_token_encrypted)
    server.app.oauth.expire_access_tokens()
    CanvasLogin.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    client = canvas_client_for(User.objects.get(pk=user.pk))

    login = CanvasLogin.objects.get()
    new = token_decrypt(login.access_token_encrypted)
    assert new != old and client._token == new
    assert new not in login.access_token_encrypted
    assert login.expires_at > timezone.now() + timedelta(minutes=59)
    assert client.user_self()["id"] == user_id


@over_http
def test_a_token_expiring_within_a_minute_is_refreshed_first(signed_in):
    server, user, _ = signed_in
    old = token_decrypt(user.canvas_login.access_token_encrypted)
    CanvasLogin.objects.update(expires_at=timezone.now() + timedelta(seconds=30))

    client = canvas_client_for(User.objects.get(pk=user.pk))

    assert client._token != old


@over_http
def test_a_token_canvas_rejects_is_refreshed_once_and_the_call_repeated(signed_in):
    server, user, user_id = signed_in
    CanvasLogin.objects.update(access_token_encrypted=token_encrypt("revoked-by-canvas"))
    client = canvas_client_for(User.objects.get(pk=user.pk))

    assert client.user_self()["id"] == user_id

    saved = token_decrypt(CanvasLogin.objects.get().access_token_encrypted)
    assert saved != "revoked-by-canvas" and saved == client._token


@over_http
def test_a_refused_refresh_asks_the_teacher_to_sign_in_again(signed_in):
    server, user, _ = signed_in
    server.app.oauth.revoke_all()
    CanvasLogin.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(CanvasSignInRequired, match="sign in with Canvas again"):
        canvas_client_for(User.objects.get(pk=user.pk))


@over_http
def test_a_revoked_token_found_on_a_call_asks_the_teacher_to_sign_in_again(signed_in):
    server, user, _ = signed_in
    client = canvas_client_for(user)
    server.app.oauth.revoke_all()

    with pytest.raises(CanvasSignInRequired):
        client.user_self()


@over_http
def test_a_teacher_may_fix_their_own_course_but_not_another_teachers(signed_in):
    server, user, user_id = signed_in
    layout = server.district.layout
    own = server.district.course(COURSE).assignments[0]["id"]
    other_course = next(
        cid
        for cid in server.district.course_ids()
        if user_id not in layout.teachers_of(layout.course_index(cid))
    )
    foreign = server.district.course(other_course).assignments[0]["id"]
    client = canvas_client_for(user)

    assert client.update_assignment(COURSE, own, name="Quiz 1 (fixed)")["name"] == "Quiz 1 (fixed)"
    with pytest.raises(CanvasError) as caught:
        client.update_assignment(other_course, foreign, name="Not mine")

    assert caught.value.status == 403
    assert "not authorized" in str(caught.value)
    assert server.district.assignment(other_course, foreign)["name"] != "Not mine"


@over_http
def test_staff_writes_go_out_with_the_district_token(sandbox):  # noqa: F811
    client = canvas_client_for(staff())

    assert client._token == ADMIN_TOKEN
    assert client.user_self()["name"] == "Sandbox District Admin"


@over_http
def test_a_token_another_page_refreshed_meanwhile_is_used_not_refreshed_again(signed_in):
    server, user, user_id = signed_in
    client = canvas_client_for(user)
    login = CanvasLogin.objects.get()
    saved_by_other_page = canvas_login_refresh(login=login, rejected_token=client._token)
    grant = next(iter(server.app.oauth._by_refresh.values()))
    assert grant.access_token == saved_by_other_page  # the client's token is void now

    assert client.user_self()["id"] == user_id

    assert client._token == saved_by_other_page
    assert grant.access_token == saved_by_other_page  # no second refresh voided it
