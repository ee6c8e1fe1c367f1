"""Schema validation of lineItems and results against the official OneRoster 1.2 schema."""

import copy
import json
from types import SimpleNamespace

import pytest

from sandbox.ic_roster import Roster
from sandbox.ic_schema import PayloadValidator, SchemaError, load_schema
from tests.sandbox.ic_helpers import (
    IcClient,
    code_minor,
    description,
    line_item_body,
    result_body,
    some_class,
    without,
)

V12 = PayloadValidator("1.2")
V11 = PayloadValidator("1.1")


@pytest.fixture(scope="module")
def bodies(small_district):
    """A valid lineItem and result body, for a server at the default address."""
    server = SimpleNamespace(
        sis_base_url="http://127.0.0.1:8765/ims/oneroster/gradebook/v1p2",
        district=small_district,
        ic=SimpleNamespace(roster=Roster(small_district)),
    )
    klass = some_class(server)
    return line_item_body(server, klass), result_body(server, klass)


def problem(validate, body) -> str:
    with pytest.raises(SchemaError) as caught:
        validate(body)
    return str(caught.value)


def changed(body: dict, path: str, value) -> dict:
    """A deep copy with the dotted `path` (below the top-level object) set; ... deletes it."""
    body = copy.deepcopy(body)
    (item,) = body.values()
    *parents, last = path.split(".")
    for name in parents:
        item = item[name]
    if value is ...:
        del item[last]
    else:
        item[last] = value
    return body


def test_the_valid_bodies_pass(bodies):
    line_item, result = bodies
    assert V12.line_item(line_item) is line_item["lineItem"]
    assert V12.result(result) is result["result"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("title", ..., "lineItem.title: required field is missing"),
        ("category", ..., "lineItem.category: required field is missing"),
        ("school", ..., "lineItem.school: required field is missing"),
        ("class.href", ..., "lineItem.class.href: required field is missing"),
        ("resultValueMax", "10", "lineItem.resultValueMax: must be a number, not a string"),
        ("title", None, "lineItem.title: must be a string, not null"),
        ("status", "inactive", "lineItem.status: 'inactive' is not one of 'active', 'tobedeleted'"),
        ("class.type", "section", "lineItem.class.type: 'section' is not one of 'class'"),
        ("dueDate", "2026-09-31T00:00:00Z", "lineItem.dueDate: '2026-09-31T00:00:00Z' is not"),
        ("dueDate", "2026-09-08", "lineItem.dueDate: '2026-09-08' is not an ISO 8601 date-time"),
        ("assignDate", "2026-09-01T00:00:00", "lineItem.assignDate: '2026-09-01T00:00:00' is not"),
        ("class.href", "not a uri", "lineItem.class.href: 'not a uri' is not an absolute URI"),
        ("points", 10, "lineItem.points: unknown field"),
    ],
)
def test_a_bad_line_item_is_rejected_naming_the_field(bodies, path, value, expected):
    assert problem(V12.line_item, changed(bodies[0], path, value)).startswith(expected)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("scoreDate", ..., "result.scoreDate: required field is missing"),
        ("student", ..., "result.student: required field is missing"),
        ("scoreStatus", "graded", "result.scoreStatus: 'graded' must be one of 'exempt', "),
        ("scoreDate", "2026-09-02T10:00:00Z", "result.scoreDate: '2026-09-02T10:00:00Z' is not"),
        ("scoreDate", "2026-02-30", "result.scoreDate: '2026-02-30' is not an ISO 8601 date"),
        ("score", "8.5", "result.score: must be a number, not a string"),
        ("score", True, "result.score: must be a number, not a boolean"),
        ("late", False, "result.late: must be a string, not a boolean"),
        ("missing", "no", "result.missing: 'no' is not one of 'true', 'false'"),
        ("student.type", "student", "result.student.type: 'student' is not one of 'user'"),
        ("lineItem", "gpb-a1-s1", "result.lineItem: must be an object, not a string"),
    ],
)
def test_a_bad_result_is_rejected_naming_the_field(bodies, path, value, expected):
    assert problem(V12.result, changed(bodies[1], path, value)).startswith(expected)


def test_an_extension_score_status_is_allowed(bodies):
    V12.result(changed(bodies[1], "scoreStatus", "ext:ic.dropped"))


def test_the_body_must_wrap_the_object(bodies):
    assert problem(V12.result, bodies[1]["result"]) == "result: required field is missing"
    assert problem(V12.result, []) == "must be an object, not an array"


def test_v1p1_accepts_bare_guid_refs_and_extra_fields_but_still_checks_types(bodies):
    line_item = changed(bodies[0], "class", {"sourcedId": "x"})
    line_item = changed(line_item, "sourcedId", ...)
    V11.line_item(changed(line_item, "vendorField", 1))
    assert problem(V11.line_item, changed(line_item, "title", 3)).startswith("lineItem.title")
    assert problem(V11.line_item, changed(line_item, "class", {})).startswith(
        "lineItem.class.sourcedId: required"
    )


def test_our_verdicts_agree_with_jsonschema_on_the_official_schema(bodies):
    jsonschema = pytest.importorskip("jsonschema")
    document = load_schema()

    def official(name: str):
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        return jsonschema.Draft202012Validator(schema)

    cases = [
        ("SingleLineItemDType", V12.line_item, bodies[0]),
        ("SingleResultDType", V12.result, bodies[1]),
    ]
    variations = [
        ("title", ...),
        ("title", 1),
        ("status", "gone"),
        ("class.href", ...),
        ("class.type", "org"),
        ("score", "1"),
        ("scoreStatus", "ext:x"),
        ("scoreStatus", "nope"),
        ("late", "maybe"),
        ("extra", 1),
        ("metadata", {"anything": [1, 2]}),
        ("resultValueMin", 1.5),
    ]
    for name, ours, body in cases:
        for path, value in variations:
            try:
                variant = changed(body, path, value)
            except KeyError:
                continue  # nothing to delete, or no parent object in this kind
            try:
                ours(variant)
                verdict = True
            except SchemaError:
                verdict = False
            assert verdict == official(name).is_valid(variant), (name, path, value)


@pytest.fixture
def ic(server):
    client = IcClient(server)
    yield client
    client.close()


def test_over_http_a_schema_failure_is_a_422_invaliddata_naming_the_field(server, ic):
    klass = some_class(server)
    response = ic.put_line_item(without(line_item_body(server, klass), "dueDate"))
    assert response.status_code == 422
    assert code_minor(response) == "invaliddata"
    assert description(response) == "lineItem.dueDate: required field is missing"
    assert server.ic.store.line_items == {}


def test_over_http_a_body_that_is_not_json_is_a_400(server, ic):
    response = ic.session.put(
        f"{ic.root}/lineItems/gpb-a1-s1",
        data=b'{"lineItem": ',
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert description(response).startswith("The request body is not JSON")


def test_over_http_nan_is_not_a_number(server, ic):
    raw = json.dumps(line_item_body(server, some_class(server))).replace("10.0", "NaN")
    response = ic.session.put(f"{ic.root}/lineItems/gpb-a1-s1", data=raw.encode(), timeout=5)
    assert response.status_code == 400


def test_rejections_are_counted_by_kind_and_status(server, ic):
    klass = some_class(server)
    ic.put_line_item(without(line_item_body(server, klass), "title"))
    ic.put_line_item(line_item_body(server, klass))
    stats = server.ic.stats.as_json()
    assert stats["rejected"] == {"lineItem": {"422": 1}}
    assert stats["accepted"] == {"lineItem": {"201": 1}}
