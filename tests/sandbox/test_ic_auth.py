"""The simulated IC's OAuth 2 client credentials and vendor authorization."""

import base64
import time

import requests

from tests.sandbox.ic_helpers import IcClient, description, some_class, token


def categories_url(server) -> str:
    return f"{server.sis_base_url}/classes/{some_class(server).sourced_id}/categories"


def test_good_client_credentials_get_a_bearer_token(server):
    response = requests.post(
        server.sis_token_url,
        auth=("sandbox-client", "sandbox-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"]


def test_credentials_in_the_form_body_are_accepted_too(server):
    response = requests.post(
        server.sis_token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=5,
    )
    assert response.status_code == 200


def test_a_wrong_secret_is_refused_as_invalid_client(server):
    response = requests.post(
        server.sis_token_url,
        auth=("sandbox-client", "wrong"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_configured_client_credentials_replace_the_defaults(serve):
    with serve(sis_client_id="district-app", sis_client_secret="s3cret") as server:
        assert token(server, ("district-app", "s3cret"))
        refused = requests.post(
            server.sis_token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        )
    assert refused.status_code == 401


def test_a_token_request_without_grant_type_is_unsupported(server):
    response = requests.post(
        server.sis_token_url, auth=("sandbox-client", "sandbox-secret"), data={}, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_token_is_needed_for_gradebook_calls(server):
    response = requests.get(categories_url(server), timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "unauthorisedrequest"
    )


def test_an_unknown_token_is_refused(server):
    headers = {"Authorization": "Bearer not-a-token"}
    response = requests.get(categories_url(server), headers=headers, timeout=5)
    assert response.status_code == 401
    assert description(response) == "Unknown access token"


def test_an_expired_token_is_refused_and_a_new_one_works(serve):
    with serve(sis_token_ttl=0.2) as server:
        first = token(server)
        time.sleep(0.3)
        expired = requests.get(
            categories_url(server), headers={"Authorization": f"Bearer {first}"}, timeout=5
        )
        fresh = requests.get(
            categories_url(server), headers={"Authorization": f"Bearer {token(server)}"}, timeout=5
        )
    assert expired.status_code == 401 and description(expired) == "Access token expired"
    assert fresh.status_code == 200


def test_issuing_a_token_does_not_revoke_earlier_ones(server):
    tokens = [token(server) for _ in range(3)]
    for value in tokens:
        headers = {"Authorization": f"Bearer {value}"}
        assert requests.get(categories_url(server), headers=headers, timeout=5).status_code == 200


def test_a_required_vendor_header_that_is_absent_is_refused(serve):
    with serve(sis_vendor_key="vk", sis_vendor_secret="vs") as server:
        ic = IcClient(server)
        response = ic.get(f"classes/{some_class(server).sourced_id}/categories")
    assert response.status_code == 401
    assert "vendor authorization missing" in description(response).lower()


def test_a_wrong_vendor_header_is_refused(serve):
    with serve(sis_vendor_key="vk", sis_vendor_secret="vs") as server:
        ic = IcClient(server, vendor="vk:nope")
        response = ic.get(f"classes/{some_class(server).sourced_id}/categories")
    assert response.status_code == 401
    assert "vendor authorization is wrong" in description(response).lower()


def test_the_right_vendor_header_is_accepted(serve):
    with serve(sis_vendor_key="vk", sis_vendor_secret="vs") as server:
        ic = IcClient(server, vendor="vk:vs")
        response = ic.get(f"classes/{some_class(server).sourced_id}/categories")
    assert response.status_code == 200


def test_without_a_configured_vendor_key_no_header_is_needed(server):
    assert IcClient(server).get(f"classes/{some_class(server).sourced_id}/categories").ok


def test_the_token_endpoint_only_takes_post(server):
    credentials = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    response = requests.get(
        server.sis_token_url, headers={"Authorization": f"Basic {credentials}"}, timeout=5
    )
    assert response.status_code == 405


def test_token_outcomes_are_counted(server):
    token(server)
    requests.post(server.sis_token_url, auth=("x", "y"), timeout=5)
    stats = requests.get(f"{server.url}/_ic/stats", timeout=5).json()
    assert stats["tokens"] == {"issued": 1, "refused": 1}
