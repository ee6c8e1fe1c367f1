"""Signing in to the teacher pages: Canvas OAuth2 over real HTTP against the sandbox, staff
passwords, signing out, and what never leaks (tokens in the database, logs and URLs)."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client, RequestFactory
from django.urls import reverse

from sync.permissions import DISTRICT_ADMIN_GROUP
from teachers.access import courses_for
from teachers.decorators import teacher_required
from teachers.models import CanvasLogin
from teachers.signin import SESSION_KEY
from tests.teachers.signin_helpers import (
    canvas_choose,
    courses_of,
    import_courses,
    local_path,
    sandbox,  # noqa: F401 (fixture)
    sign_in_with_canvas,
    teacher_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

COURSE = 1001


@pytest.fixture
def teacher(sandbox):  # noqa: F811
    """A sandbox teacher whose courses are imported: (server, Canvas user id, course ids)."""
    user_id = teacher_of(sandbox, COURSE)
    course_ids = courses_of(sandbox, user_id)
    import_courses(sandbox, course_ids)
    return sandbox, user_id, course_ids


def staff_user(username: str = "dana", *, active: bool = True, in_group: bool = True) -> User:
    user = User.objects.create_user(username, password="a long pass phrase", is_staff=True)
    user.is_active = active
    user.save()
    if in_group:
        user.groups.add(Group.objects.get_or_create(name=DISTRICT_ADMIN_GROUP)[0])
    return user


# -- the sign-in page ---------------------------------------------------------------------------


def test_the_sign_in_page_offers_canvas_and_a_staff_form_with_csrf_tokens():
    response = Client().get(reverse("teachers:login") + "?next=/teacher/courses/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign in with Canvas" in page
    assert 'name="username"' in page and 'name="password"' in page
    assert page.count("csrfmiddlewaretoken") >= 2
    assert 'value="/teacher/courses/"' in page


def test_forms_posted_without_a_csrf_token_are_refused():
    client = Client(enforce_csrf_checks=True)

    assert client.post(reverse("teachers:login"), {"username": "x"}).status_code == 403
    assert client.post(reverse("teachers:oauth_start")).status_code == 403
    assert client.post(reverse("teachers:logout")).status_code == 403


# -- the OAuth round trip -----------------------------------------------------------------------


def test_a_teacher_signs_in_with_canvas_and_lands_on_the_next_page(teacher):
    server, user_id, course_ids = teacher
    client = Client()

    response = sign_in_with_canvas(client, user_id, next_url="/teacher/courses/42/")

    assert response.status_code == 302
    assert response["Location"] == "/teacher/courses/42/"
    user = User.objects.get(username=f"canvas-{user_id}")
    assert not user.has_usable_password()
    assert int(client.session["_auth_user_id"]) == user.pk
    assert user.canvas_login.person_id == user_id
    assert sorted(courses_for(user).values_list("canvas_id", flat=True)) == sorted(course_ids)


def test_the_start_sends_the_browser_to_canvas_with_a_random_state_kept_in_the_session(sandbox):  # noqa: F811
    client = Client()

    first = client.post(reverse("teachers:oauth_start"))
    state = client.session[SESSION_KEY]["state"]
    second = client.post(reverse("teachers:oauth_start"))

    query = parse_qs(urlsplit(first["Location"]).query)
    assert first["Location"].startswith(f"{sandbox.url}/login/oauth2/auth?")
    assert query["client_id"] == ["10000000000001"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/teacher/login/canvas/callback/"]
    assert query["state"] == [state] and len(state) >= 32
    assert parse_qs(urlsplit(second["Location"]).query)["state"] != [state]


def test_without_a_safe_next_url_the_teacher_goes_to_the_home_page(teacher):
    server, user_id, _ = teacher

    response = sign_in_with_canvas(Client(), user_id, next_url="https://evil.example/steal")

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_tokens_are_stored_encrypted_never_in_plain_text(teacher):
    server, user_id, _ = teacher

    sign_in_with_canvas(Client(), user_id)

    login = CanvasLogin.objects.get(person_id=user_id)
    grants = list(server.app.oauth._by_refresh.values())
    assert len(grants) == 1
    assert grants[0].access_token not in login.access_token_encrypted
    assert grants[0].refresh_token not in login.refresh_token_encrypted
    assert login.access_token_encrypted.startswith("gAAAAA")  # a Fernet token
    assert login.expires_at is not None


def test_signing_in_again_updates_the_same_user_and_sign_in(teacher):
    server, user_id, _ = teacher
    sign_in_with_canvas(Client(), user_id)
    first = CanvasLogin.objects.get(person_id=user_id).access_token_encrypted

    sign_in_with_canvas(Client(), user_id)

    assert User.objects.filter(username=f"canvas-{user_id}").count() == 1
    assert CanvasLogin.objects.count() == 1
    assert CanvasLogin.objects.get(person_id=user_id).access_token_encrypted != first


def test_a_callback_whose_state_does_not_match_signs_nobody_in(teacher):
    server, user_id, _ = teacher
    client = Client()
    start = client.post(reverse("teachers:oauth_start"))
    callback = canvas_choose(start["Location"], user_id)
    forged = local_path(callback).replace("state=", "state=forged")

    response = client.get(forged)

    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not CanvasLogin.objects.exists()


def test_a_callback_that_was_never_started_here_signs_nobody_in(teacher):
    server, user_id, _ = teacher
    start = Client().post(reverse("teachers:oauth_start"))
    callback = canvas_choose(start["Location"], user_id)
    other_browser = Client()

    response = other_browser.get(local_path(callback))

    assert response.status_code == 400
    assert "_auth_user_id" not in other_browser.session


def test_a_callback_can_be_used_only_once(teacher):
    server, user_id, _ = teacher
    client = Client()
    start = client.post(reverse("teachers:oauth_start"))
    callback = local_path(canvas_choose(start["Location"], user_id))
    assert client.get(callback).status_code == 302
    client.post(reverse("teachers:logout"))

    assert client.get(callback).status_code == 400


def test_cancelling_on_canvas_says_the_sign_in_was_cancelled(sandbox):  # noqa: F811
    client = Client()

    response = sign_in_with_canvas(client, None)

    assert response.status_code == 403
    assert "Sign-in cancelled" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_canvas_user_not_imported_yet_is_asked_to_have_an_import_run(sandbox):  # noqa: F811
    client = Client()

    response = sign_in_with_canvas(client, teacher_of(sandbox, COURSE))

    page = response.content.decode()
    assert response.status_code == 403
    assert "ask your district admin to run an import" in page.lower()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username__startswith="canvas-").exists()


def test_a_person_who_teaches_no_course_gets_a_clear_page(teacher):
    server, _, course_ids = teacher
    student = next(
        row["user_id"]
        for row in server.district.course(course_ids[0]).enrollments
        if row["type"] == "StudentEnrollment"
    )

    response = sign_in_with_canvas(Client(), student)

    page = response.content.decode()
    assert response.status_code == 403
    assert "no course where you are an active teacher" in page
    assert "ask your district admin to run an import" in page.lower()


def test_a_deactivated_teacher_account_cannot_sign_in(teacher):
    server, user_id, _ = teacher
    sign_in_with_canvas(Client(), user_id)
    User.objects.filter(username=f"canvas-{user_id}").update(is_active=False)
    client = Client()

    response = sign_in_with_canvas(client, user_id)

    assert response.status_code == 403
    assert "turned off" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_canvas_that_cannot_be_reached_at_the_callback_gives_a_plain_page(teacher, settings):
    server, user_id, _ = teacher
    client = Client()
    start = client.post(reverse("teachers:oauth_start"))
    callback = local_path(canvas_choose(start["Location"], user_id))
    settings.CANVAS_BASE_URL = "http://127.0.0.1:9"  # nothing listens there

    response = client.get(callback)

    assert response.status_code == 502
    assert "Cannot reach Canvas" in response.content.decode()


def test_no_token_or_code_is_written_to_the_log(teacher, caplog):
    server, user_id, _ = teacher
    client = Client()
    start = client.post(reverse("teachers:oauth_start"))
    callback = canvas_choose(start["Location"], user_id)
    code = parse_qs(urlsplit(callback).query)["code"][0]

    with caplog.at_level(logging.DEBUG):
        client.get(local_path(callback))

    grant = next(iter(server.app.oauth._by_refresh.values()))
    for secret in (code, grant.access_token, grant.refresh_token):
        assert secret not in caplog.text
    assert f"Canvas user {user_id} signed in" in caplog.text


# -- staff sign in with a password ---------------------------------------------------------------


def test_district_staff_sign_in_with_a_password():
    staff_user()
    client = Client()

    response = client.post(
        reverse("teachers:login"),
        {"username": "dana", "password": "a long pass phrase", "next": "/teacher/x/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/teacher/x/"
    assert "_auth_user_id" in client.session


def test_a_wrong_password_is_explained_in_plain_words():
    staff_user()

    response = Client().post(reverse("teachers:login"), {"username": "dana", "password": "nope"})

    assert response.status_code == 200
    assert "username and password do not match" in response.content.decode()


def test_an_inactive_account_is_told_it_is_turned_off():
    staff_user(active=False)

    response = Client().post(
        reverse("teachers:login"), {"username": "dana", "password": "a long pass phrase"}
    )

    assert "turned off" in response.content.decode()


def test_an_account_that_is_not_district_staff_cannot_sign_in_with_a_password():
    staff_user(in_group=False)
    client = Client()

    response = client.post(
        reverse("teachers:login"), {"username": "dana", "password": "a long pass phrase"}
    )

    assert "not a district staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


# -- signing out and guarding pages --------------------------------------------------------------


def test_signing_out_takes_a_post_and_returns_to_the_sign_in_page():
    client = Client()
    client.force_login(staff_user())

    assert client.get(reverse("teachers:logout")).status_code == 405
    response = client.post(reverse("teachers:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("teachers:login")
    assert "_auth_user_id" not in client.session


def test_teacher_required_sends_anonymous_users_to_sign_in_and_back():
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    view = teacher_required(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/teacher/courses/7/?tab=grades")
    request.user = AnonymousUser()

    response = view(request)

    assert response.status_code == 302
    assert response["Location"] == "/teacher/login/?next=%2Fteacher%2Fcourses%2F7%2F%3Ftab%3Dgrades"


def test_teacher_required_lets_signed_in_users_through():
    from django.http import HttpResponse

    view = teacher_required(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/teacher/")
    request.user = staff_user()

    assert view(request).content == b"ok"


# -- the admin -----------------------------------------------------------------------------------


def test_the_admin_lists_canvas_sign_ins_without_their_tokens(teacher):
    server, user_id, _ = teacher
    sign_in_with_canvas(Client(), user_id)
    login = CanvasLogin.objects.get()
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="x" * 12))

    listing = admin.get("/admin/teachers/canvaslogin/")
    detail = admin.get(f"/admin/teachers/canvaslogin/{login.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert f"canvas-{user_id}" in listing.content.decode()
    for page in (listing, detail):
        text = page.content.decode()
        assert login.access_token_encrypted not in text
        assert login.refresh_token_encrypted not in text
        assert "access_token" not in text
