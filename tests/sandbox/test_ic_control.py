"""What the simulated IC records, and its /_ic/ control endpoints."""

import pytest
import requests

from tests.sandbox.ic_helpers import IcClient, line_item_body, result_body, some_class


@pytest.fixture
def klass(server):
    return some_class(server)


@pytest.fixture
def ic(server):
    client = IcClient(server)
    yield client
    client.close()


def control(server, path: str, method: str = "GET", **kwargs) -> dict:
    response = requests.request(method, f"{server.url}/_ic/{path}", timeout=5, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_store_keeps_current_objects_and_counts_writes_per_sourced_id(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    for score in (7.0, 8.0, 9.0):
        ic.put_result(result_body(server, klass, score=score))
    result_id = result_body(server, klass)["result"]["sourcedId"]
    store = server.ic.store
    assert store.result(result_id)["score"] == 9.0
    assert store.writes("result", result_id) == 3
    assert store.writes("lineItem", "gpb-a1-s1") == 1
    assert store.results_of("gpb-a1-s1") == [result_id]


def test_the_log_lists_accepted_writes_in_order_and_pages_with_since(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    ic.put_result(result_body(server, klass))
    ic.put_result(result_body(server, klass, score=1.0))
    ic.put_result(result_body(server, klass, student="S9999999"))  # rejected: not logged
    result_id = result_body(server, klass)["result"]["sourcedId"]
    log = control(server, "log")
    assert log["total"] == 3 and log["next"] == 3
    assert [
        (e["seq"], e["kind"], e["action"], e["status"], e["writes"]) for e in log["entries"]
    ] == [
        (1, "lineItem", "created", 201, 1),
        (2, "result", "created", 201, 1),
        (3, "result", "updated", 200, 2),
    ]
    assert log["entries"][2]["sourcedId"] == result_id
    assert log["entries"][0]["at"].endswith("Z")
    later = control(server, "log", params={"since": 2})
    assert [e["seq"] for e in later["entries"]] == [3]
    assert control(server, "log", params={"since": 3})["entries"] == []


def test_deletes_are_logged_too(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    ic.put_result(result_body(server, klass))
    ic.delete("lineItems", "gpb-a1-s1")
    actions = [(e["kind"], e["action"]) for e in control(server, "log")["entries"]]
    assert actions[-2:] == [("lineItem", "deleted"), ("result", "deleted")]


def test_stats_count_accepted_and_rejected_writes_by_kind_and_status(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    ic.put_line_item(line_item_body(server, klass))
    ic.put_result(result_body(server, klass, line_item_id="gpb-a5-s5"))
    ic.get(f"classes/{klass.sourced_id}/categories")
    stats = control(server, "stats")
    assert stats["accepted"] == {"lineItem": {"200": 1, "201": 1}}
    assert stats["rejected"] == {"result": {"422": 1}}
    assert stats["reads"] == {"categories": {"200": 1}}
    assert stats["stored"] == {"lineItems": 1, "results": 0, "log_entries": 2}


def test_the_line_items_and_results_endpoints_show_what_is_stored(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    students = sorted(klass.students)[:3]
    for student in students:
        ic.put_result(result_body(server, klass, student=student))
    line_items = control(server, "lineItems")
    assert line_items["count"] == 1
    (row,) = line_items["lineItems"]
    assert (row["sourcedId"], row["class"], row["writes"]) == ("gpb-a1-s1", klass.sourced_id, 1)
    assert row["lineItem"]["title"] == "Quiz 1"
    assert control(server, "lineItems", params={"class": "OTHER"})["count"] == 0
    results = control(server, "results", params={"lineItem": "gpb-a1-s1", "limit": 2})
    assert results["count"] == 3 and len(results["results"]) == 2
    assert [r["result"]["student"]["sourcedId"] for r in results["results"]] == students[:2]
    assert control(server, "results", params={"lineItem": "gpb-a9-s9"})["count"] == 0


def test_reset_forgets_everything_accepted(server, ic, klass):
    ic.put_line_item(line_item_body(server, klass))
    control(server, "reset", method="POST")
    assert control(server, "stats")["stored"] == {"lineItems": 0, "results": 0, "log_entries": 0}
    assert control(server, "stats")["accepted"] == {}
    assert ic.put_line_item(line_item_body(server, klass)).status_code == 201  # token survives


def test_config_sets_a_vendor_requirement_at_run_time(server, ic, klass):
    path = f"classes/{klass.sourced_id}/categories"
    config = control(server, "config", "POST", json={"vendor_key": "k", "vendor_secret": "s"})
    assert config["vendor_key"] == "k"
    assert ic.get(path).status_code == 401
    ic.session.headers["x-vendor-authorization"] = "k:s"
    assert ic.get(path).status_code == 200
    control(server, "config", "POST", params={"vendor_key": "", "vendor_secret": ""})
    del ic.session.headers["x-vendor-authorization"]
    assert ic.get(path).status_code == 200


def test_config_locks_a_class_at_run_time(server, ic, klass):
    control(server, "config", "POST", params={"locked_classes": klass.sourced_id})
    assert ic.put_line_item(line_item_body(server, klass)).status_code == 403
    control(server, "config", "POST", params={"locked_classes": ""})
    assert ic.put_line_item(line_item_body(server, klass)).status_code == 201


def test_config_shortens_the_token_lifetime_for_new_tokens(server):
    control(server, "config", "POST", json={"token_ttl": 5})
    response = requests.post(
        server.sis_token_url,
        auth=("sandbox-client", "sandbox-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.json()["expires_in"] == 5


def test_config_turns_faults_on_and_off(server, ic, klass):
    control(server, "config", "POST", json={"faults": 1.0, "fault_kinds": ["500"]})
    assert ic.put_line_item(line_item_body(server, klass)).status_code == 500
    control(server, "config", "POST", json={"faults": 0})
    assert ic.put_line_item(line_item_body(server, klass)).status_code == 201


def test_config_rejects_bad_values_without_applying_any(server):
    response = requests.post(
        f"{server.url}/_ic/config", json={"faults": 2, "token_ttl": 9}, timeout=5
    )
    assert response.status_code == 400
    assert control(server, "config")["token_ttl"] == 3600.0
    vendor_only = requests.post(f"{server.url}/_ic/config", json={"vendor_key": "k"}, timeout=5)
    assert vendor_only.status_code == 400


def test_unknown_control_paths_and_wrong_methods_are_refused(server):
    assert requests.get(f"{server.url}/_ic/nothing", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/_ic/reset", timeout=5).status_code == 405


def test_canvas_keeps_its_own_paths_on_the_same_port(server, ic):
    canvas = requests.get(
        f"{server.url}/api/v1/accounts/1/terms",
        headers={"Authorization": "Bearer sandbox-token"},
        timeout=5,
    )
    assert canvas.status_code == 200
    assert requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["total_requests"] == 1
