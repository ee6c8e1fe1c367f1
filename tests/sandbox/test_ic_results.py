"""Results: create, update, read, delete, and what the simulated IC refuses about them."""

import pytest

from tests.sandbox.ic_helpers import (
    IcClient,
    code_minor,
    description,
    line_item_body,
    ref,
    result_body,
    some_class,
)


@pytest.fixture
def klass(server):
    return some_class(server)


@pytest.fixture
def ic(server, klass):
    """A client whose class already has lineItem gpb-a1-s1."""
    client = IcClient(server)
    assert client.put_line_item(line_item_body(server, klass)).status_code == 201
    yield client
    client.close()


def test_a_new_result_is_created_with_201_and_an_update_answers_200(server, ic, klass):
    first = ic.put_result(result_body(server, klass))
    second = ic.put_result(result_body(server, klass, score=9.0))
    assert (first.status_code, second.status_code) == (201, 200)
    result_id = result_body(server, klass)["result"]["sourcedId"]
    assert server.ic.store.result(result_id)["score"] == 9.0
    assert server.ic.store.writes("result", result_id) == 2


def test_get_returns_the_stored_result_and_delete_removes_it(server, ic, klass):
    body = result_body(server, klass)
    result_id = body["result"]["sourcedId"]
    ic.put_result(body)
    assert ic.get(f"results/{result_id}").json() == body
    assert ic.delete("results", result_id).status_code == 204
    assert ic.get(f"results/{result_id}").status_code == 404
    assert ic.delete("results", result_id).status_code == 404


def test_a_result_for_a_line_item_never_put_is_rejected(server, ic, klass):
    response = ic.put_result(result_body(server, klass, line_item_id="gpb-a7-s7"))
    assert response.status_code == 422
    assert code_minor(response) == "invaliddata"
    assert description(response) == (
        "result.lineItem.sourcedId: unknown lineItem 'gpb-a7-s7' (PUT it first)"
    )


def test_a_result_for_a_student_not_in_the_class_names_student_and_class(server, ic, klass):
    response = ic.put_result(result_body(server, klass, student="S9999999"))
    assert response.status_code == 422
    assert description(response) == (
        f"result.student.sourcedId: student 'S9999999' is not enrolled in class "
        f"'{klass.sourced_id}'"
    )


def test_a_student_of_another_class_is_not_enough(server, ic, klass):
    other = some_class(server, skip=1)
    stranger = sorted(other.students - klass.students)[0]
    response = ic.put_result(result_body(server, klass, student=stranger))
    assert response.status_code == 422
    assert stranger in description(response)


def test_a_result_naming_another_class_is_rejected(server, ic, klass):
    body = result_body(server, klass, **{"class": ref(server, "class", "OTHER-CLASS")})
    response = ic.put_result(body)
    assert response.status_code == 422
    assert description(response).startswith("result.class.sourcedId:")


def test_exempt_without_a_score_is_accepted(server, ic, klass):
    body = result_body(server, klass, scoreStatus="exempt")
    del body["result"]["score"]
    assert ic.put_result(body).status_code == 201


def test_exempt_with_a_null_score_is_accepted(server, ic, klass):
    assert ic.put_result(result_body(server, klass, scoreStatus="exempt", score=None)).ok


def test_exempt_with_a_score_is_rejected(server, ic, klass):
    response = ic.put_result(result_body(server, klass, scoreStatus="exempt", score=5.0))
    assert response.status_code == 422
    assert description(response) == (
        "result.score: must be absent or null when scoreStatus is 'exempt'"
    )


def test_fully_graded_without_a_score_is_rejected(server, ic, klass):
    response = ic.put_result(result_body(server, klass, score=None))
    assert response.status_code == 422
    assert description(response).startswith("result.score: required")


def test_extra_credit_above_the_maximum_is_kept(server, ic, klass):
    body = result_body(server, klass, score=12.5)
    assert ic.put_result(body).status_code == 201
    assert server.ic.store.result(body["result"]["sourcedId"])["score"] == 12.5


def test_a_result_cannot_move_to_another_line_item(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass, sourced_id="gpb-a2-s1"))
    ic.put_result(result_body(server, klass, sourced_id="r-1"))
    response = ic.put_result(result_body(server, klass, line_item_id="gpb-a2-s1", sourced_id="r-1"))
    assert response.status_code == 422
    assert "cannot move" in description(response)


def test_the_v1p1_root_accepts_a_result_with_bare_references(server, ic, klass):
    v11 = IcClient(server, version="1.1")
    student = sorted(klass.students)[1]
    body = {
        "result": {
            "score": 18,
            "scoreStatus": "submitted",
            "scoreDate": "2024-09-11T00:00:00.000Z",
            "lineItem": {"sourcedId": "gpb-a1-s1"},
            "student": {"sourcedId": student},
        }
    }
    response = v11.put("results", "v11-result", body)
    assert response.status_code == 201, response.text
    assert server.ic.store.results_of("gpb-a1-s1") == ["v11-result"]


def test_the_v1p1_root_reports_a_bad_result_in_a_status_info_set(server, ic, klass):
    v11 = IcClient(server, version="1.1")
    body = result_body(server, klass, student="S9999999")
    response = v11.put_result(body)
    assert response.status_code == 422
    (info,) = response.json()["statusInfoSet"]
    assert code_minor(response) == "invalid data"
    assert "S9999999" in info["imsx_description"]


def test_a_result_in_a_class_locked_after_its_line_item_was_put_is_refused(server, ic, klass):
    server.ic.locked_classes = frozenset({klass.sourced_id})
    refused = ic.put_result(result_body(server, klass))
    assert refused.status_code == 403
    assert server.ic.store.results == {}
