"""Injected faults on the simulated IC: never recorded as accepted, except "applied_drop"."""

import time

import pytest
import requests

from sandbox.ic_faults import IcFaultInjector
from tests.sandbox.ic_helpers import (
    IcClient,
    code_minor,
    line_item_body,
    result_body,
    some_class,
)


def put_outcome(ic: IcClient, body: dict) -> int | str:
    try:
        return ic.put_line_item(body).status_code
    except requests.ConnectionError:
        return "dropped"


@pytest.fixture
def ic(server):
    client = IcClient(server)  # the token is fetched before any fault is switched on
    yield client
    client.close()


@pytest.mark.parametrize(("kind", "outcome"), [("500", 500), ("503", 503), ("429", 429)])
def test_a_faulted_put_answers_the_fault_and_is_not_recorded(server, ic, kind, outcome):
    server.ic.faults = IcFaultInjector(1.0, kinds=(kind,))
    klass = some_class(server)
    assert put_outcome(ic, line_item_body(server, klass)) == outcome
    assert server.ic.store.line_items == {} and len(server.ic.store.log) == 0
    assert server.ic.stats.as_json()["faults"] == {kind: 1}
    assert server.ic.stats.as_json()["accepted"] == {}


def test_a_dropped_connection_is_not_recorded(server, ic):
    server.ic.faults = IcFaultInjector(1.0, kinds=("drop",))
    assert put_outcome(ic, line_item_body(server, some_class(server))) == "dropped"
    assert server.ic.store.line_items == {}


def test_a_fault_429_asks_for_a_short_wait_in_an_imsx_body(server, ic):
    server.ic.faults = IcFaultInjector(1.0, kinds=("429",), retry_after=2)
    response = ic.put_line_item(line_item_body(server, some_class(server)))
    assert response.headers["Retry-After"] == "2"
    assert code_minor(response) == "server_busy"


def test_a_slow_fault_waits_then_applies_the_write_once(server, ic):
    server.ic.faults = IcFaultInjector(1.0, kinds=("slow",), slow_delay=0.2)
    started = time.perf_counter()
    response = ic.put_line_item(line_item_body(server, some_class(server)))
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 201
    assert server.ic.store.writes("lineItem", "gpb-a1-s1") == 1


def test_applied_then_dropped_is_recorded_once_and_a_retry_is_an_update(server, ic):
    klass = some_class(server)
    server.ic.faults = IcFaultInjector(1.0, kinds=("applied_drop",))
    assert put_outcome(ic, line_item_body(server, klass)) == "dropped"
    assert server.ic.store.writes("lineItem", "gpb-a1-s1") == 1
    server.ic.faults = IcFaultInjector(0.0)
    retried = ic.put_line_item(line_item_body(server, klass))
    assert retried.status_code == 200  # an idempotent update, not a second create
    log = server.ic.store.log_entries()
    assert [(e.sourced_id, e.action, e.writes) for e in log] == [
        ("gpb-a1-s1", "created", 1),
        ("gpb-a1-s1", "updated", 2),
    ]
    assert len(server.ic.store.line_items) == 1


def test_applied_then_dropped_results_are_updates_when_retried(server, ic):
    klass = some_class(server)
    ic.put_line_item(line_item_body(server, klass))
    server.ic.faults = IcFaultInjector(1.0, kinds=("applied_drop",))
    body = result_body(server, klass)
    with pytest.raises(requests.ConnectionError):
        ic.put_result(body)
    server.ic.faults = IcFaultInjector(0.0)
    assert ic.put_result(body).status_code == 200
    assert server.ic.store.writes("result", body["result"]["sourcedId"]) == 2


def test_applied_drop_is_opt_in(serve):
    with serve(faults=1.0, slow_delay=0.01) as server:
        assert "applied_drop" not in server.ic.faults.kinds


def test_at_rate_one_every_default_kind_shows_up_and_only_slow_ones_are_recorded(serve):
    with serve() as server:
        klass = some_class(server)
        ic = IcClient(server)
        server.ic.faults = IcFaultInjector(1.0, slow_delay=0.01)
        outcomes = [put_outcome(ic, line_item_body(server, klass)) for _ in range(40)]
        faults = server.ic.stats.as_json()["faults"]
        writes = server.ic.store.writes("lineItem", "gpb-a1-s1")
    assert set(outcomes) == {500, 503, 429, "dropped", 201, 200}
    assert sum(faults.values()) == 40
    assert writes == faults["slow"] == outcomes.count(201) + outcomes.count(200)


def test_faults_ic_leaves_canvas_alone(serve):
    with serve(faults_ic=1.0, ic_fault_kinds=("500",)) as server:
        canvas = requests.get(
            f"{server.url}/api/v1/accounts/1/terms",
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=5,
        )
        token = requests.post(
            server.sis_token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        )
    assert canvas.status_code == 200
    assert token.status_code == 500  # the token endpoint is part of IC


def test_faults_canvas_leaves_ic_alone(serve):
    with serve(faults_canvas=1.0, fault_kinds=("500",)) as server:
        canvas = requests.get(
            f"{server.url}/api/v1/accounts/1/terms",
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=5,
        )
        ic = IcClient(server)
        response = ic.put_line_item(line_item_body(server, some_class(server)))
    assert canvas.status_code == 500
    assert response.status_code == 201


def test_ic_and_canvas_fault_sequences_are_independent(serve):
    with serve(faults=0.5, fault_kinds=("500",)) as server:
        canvas = [server.app.faults.draw() for _ in range(50)]
        ic = [server.ic.faults.draw() for _ in range(50)]
    assert canvas != ic


def test_unknown_ic_fault_kinds_are_refused():
    with pytest.raises(ValueError):
        IcFaultInjector(0.1, kinds=("teapot",))
