"""Who may use the API: staff by session or token; nobody else."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.factories import client_for, user

pytestmark = pytest.mark.django_db
ENDPOINTS = ["/api/v1/violations/", "/api/v1/compliance/", "/api/v1/schema/", "/api/v1/docs/"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_requests_are_refused(url, root):
    assert client_for(None).get(url).status_code in (401, 403)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_users_who_are_not_staff_are_forbidden(url, root):
    assert client_for(user("teacher", staff=False)).get(url).status_code == 403


@pytest.mark.parametrize("url", ENDPOINTS)
def test_staff_sessions_are_allowed(url, staff_client, root):
    assert staff_client.get(url).status_code == 200


def test_a_token_made_by_drf_create_token_authenticates_a_staff_user(root):
    admin = user("admin")
    call_command("drf_create_token", "admin", stdout=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=admin).key}")
    assert client.get("/api/v1/violations/").status_code == 200


def test_a_wrong_token_is_refused_as_invalid(root):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get("/api/v1/violations/")
    assert response.status_code in (401, 403)
    assert response.json()["detail"] == "Invalid token."


def test_a_token_of_a_user_who_is_not_staff_is_forbidden(root):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user('t', staff=False)).key}"
    )
    assert client.get("/api/v1/violations/").status_code == 403


def test_the_api_is_read_only(staff_client, root):
    assert staff_client.post("/api/v1/violations/", {}).status_code == 405
