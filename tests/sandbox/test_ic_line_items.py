"""lineItems: create, update, read, delete, and the checks a real server makes on them."""

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
def ic(server):
    client = IcClient(server)
    yield client
    client.close()


@pytest.fixture
def klass(server):
    return some_class(server)


def test_a_new_line_item_is_created_with_201_and_no_body(server, ic, klass):
    response = ic.put_line_item(line_item_body(server, klass))
    assert response.status_code == 201
    assert response.content == b""


def test_putting_it_again_is_an_update_with_200(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    response = ic.put_line_item(line_item_body(server, klass, title="Quiz 1 (revised)"))
    assert response.status_code == 200
    assert server.ic.store.line_item("gpb-a1-s1")["title"] == "Quiz 1 (revised)"
    assert server.ic.store.writes("lineItem", "gpb-a1-s1") == 2


def test_get_returns_the_stored_line_item(server, ic, klass):
    body = line_item_body(server, klass)
    ic.put_line_item(body)
    response = ic.get("lineItems/gpb-a1-s1")
    assert response.status_code == 200
    assert response.json() == body


def test_get_of_an_unknown_line_item_is_404(ic):
    response = ic.get("lineItems/gpb-a9-s9")
    assert response.status_code == 404
    assert description(response) == "Unknown lineItem 'gpb-a9-s9'"


def test_a_line_item_marked_tobedeleted_is_accepted_as_an_update(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    response = ic.put_line_item(line_item_body(server, klass, status="tobedeleted"))
    assert response.status_code == 200
    assert server.ic.store.line_item("gpb-a1-s1")["status"] == "tobedeleted"


def test_delete_answers_204_and_takes_the_results_with_it(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    ic.put_result(result_body(server, klass))
    assert ic.delete("lineItems", "gpb-a1-s1").status_code == 204
    assert ic.get("lineItems/gpb-a1-s1").status_code == 404
    assert server.ic.store.results == {}
    assert ic.delete("lineItems", "gpb-a1-s1").status_code == 404


def test_a_line_item_for_an_unknown_class_is_rejected(server, ic, klass):
    body = line_item_body(server, klass, **{"class": ref(server, "class", "NO-SUCH-CLASS")})
    response = ic.put_line_item(body)
    assert response.status_code == 422
    assert description(response) == "lineItem.class.sourcedId: unknown class 'NO-SUCH-CLASS'"


def test_a_category_of_another_class_is_rejected(server, ic, klass):
    other = some_class(server, skip=1)
    category = ref(server, "category", other.categories[0]["sourcedId"])
    response = ic.put_line_item(line_item_body(server, klass, category=category))
    assert response.status_code == 422
    assert description(response).startswith("lineItem.category.sourcedId: class ")


def test_a_school_other_than_the_class_school_is_rejected(server, ic, klass):
    school = ref(server, "org", "SCH9999")
    response = ic.put_line_item(line_item_body(server, klass, school=school))
    assert response.status_code == 422
    assert "lineItem.school.sourcedId" in description(response)
    assert klass.school in description(response)


def test_a_line_item_cannot_move_to_another_class(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    other = some_class(server, skip=1)
    response = ic.put_line_item(line_item_body(server, other))
    assert response.status_code == 422
    assert "cannot move" in description(response)


def test_the_sourced_id_in_the_body_must_match_the_url(server, ic, klass):
    response = ic.put("lineItems", "gpb-a2-s2", line_item_body(server, klass))
    assert response.status_code == 422
    assert description(response).startswith("lineItem.sourcedId: 'gpb-a1-s1' does not match")


def test_a_maximum_below_the_minimum_is_rejected(server, ic, klass):
    body = line_item_body(server, klass, resultValueMin=10.0, resultValueMax=5.0)
    response = ic.put_line_item(body)
    assert response.status_code == 422
    assert "resultValueMax" in description(response)


def test_extra_credit_style_zero_point_line_items_are_fine(server, ic, klass):
    body = line_item_body(server, klass, resultValueMin=0.0, resultValueMax=0.0)
    assert ic.put_line_item(body).status_code == 201


def test_a_locked_class_refuses_writes_with_403_but_serves_reads(serve):
    with serve() as probe:
        locked = some_class(probe).sourced_id
    with serve(sis_locked_classes=(locked,)) as server:
        ic = IcClient(server)
        klass = some_class(server)
        response = ic.put_line_item(line_item_body(server, klass))
        categories = ic.get(f"classes/{locked}/categories")
    assert response.status_code == 403
    assert code_minor(response) == "forbidden"
    assert locked in description(response)
    assert categories.status_code == 200
    assert server.ic.store.line_items == {}


def test_the_v1p1_root_accepts_a_pragmatic_line_item(server, klass):
    ic = IcClient(server, version="1.1")
    body = {
        "lineItem": {
            "title": "Ch 3 Quiz",
            "assignDate": "2024-09-03T00:00:00.000Z",
            "dueDate": "2024-09-10T00:00:00.000Z",
            "resultValueMin": 0,
            "resultValueMax": 20,
            "class": {"sourcedId": klass.sourced_id},
            "gradingPeriod": {"sourcedId": "2026FA"},
        }
    }
    response = ic.put("lineItems", "gpb-a3-s3", body)
    assert response.status_code == 201, response.text
    assert server.ic.store.line_item("gpb-a3-s3")["sourcedId"] == "gpb-a3-s3"


def test_both_roots_share_one_store(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    v11 = IcClient(server, version="1.1")
    assert v11.get("lineItems/gpb-a1-s1").json() == ic.get("lineItems/gpb-a1-s1").json()


def test_unsupported_methods_and_paths_answer_imsx_errors(server, ic):
    patched = ic.session.patch(f"{ic.root}/lineItems/gpb-a1-s1", json={}, timeout=5)
    assert patched.status_code == 405 and patched.json()["imsx_codeMajor"] == "failure"
    listing = ic.get("lineItems")
    assert listing.status_code == 404 and listing.json()["imsx_codeMajor"] == "failure"
