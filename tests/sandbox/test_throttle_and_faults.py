"""Throttling (429, legacy 403) and injected faults (500, 503, 429, slow, dropped)."""

import threading
import time
from collections import Counter

import pytest
import requests

from sandbox.faults import FaultInjector
from sandbox.throttle import LeakyBucket

TINY_BUCKET = {
    "throttle_capacity": 1.0,
    "throttle_leak_rate": 0.01,
    "throttle_preflight": 0.0,
    "request_cost": 0.6,
}


def terms_url(server) -> str:
    return f"{server.url}/api/v1/accounts/1/terms"


def test_an_exhausted_bucket_answers_429_with_retry_after(serve, client):
    with serve(**TINY_BUCKET) as server:
        statuses = [client.get(terms_url(server)) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[-1]
    assert refused.text == "429 Too Many Requests (Rate Limit Exceeded)"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Rate-Limit-Remaining"] == "0.0"


def test_legacy_throttle_answers_403_rate_limit_exceeded(serve, client):
    with serve(legacy_throttle=True, **TINY_BUCKET) as server:
        statuses = [client.get(terms_url(server)) for _ in range(3)]
    assert statuses[-1].status_code == 403
    assert statuses[-1].text == "403 Forbidden (Rate Limit Exceeded)"
    assert "Retry-After" in statuses[-1].headers


def test_the_remaining_allowance_drops_with_each_request(serve, client):
    with serve(throttle_capacity=100.0, throttle_leak_rate=0.0, request_cost=1.0) as server:
        remaining = [
            float(client.get(terms_url(server)).headers["X-Rate-Limit-Remaining"]) for _ in range(3)
        ]
    assert remaining[0] > remaining[1] > remaining[2]


def test_a_well_behaved_concurrent_client_is_not_throttled_at_default_settings(server):
    statuses: Counter = Counter()
    lock = threading.Lock()
    url = f"{server.url}/api/v1/courses/1001/students/submissions"

    def work() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = "Bearer sandbox-token"
            for _ in range(40):
                code = session.get(
                    url, params={"student_ids[]": "all", "per_page": 100}
                ).status_code
                with lock:
                    statuses[code] += 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == {200: 320}


def test_the_bucket_leaks_over_time():
    now = [0.0]
    bucket = LeakyBucket(capacity=10.0, leak_rate=2.0, preflight=0.0, clock=lambda: now[0])
    assert bucket.admit("t").allowed
    bucket.settle("t", 10.0)
    refused = bucket.admit("t")
    assert not refused.allowed and refused.retry_after == 1
    now[0] = 3.0
    assert bucket.admit("t").allowed
    assert bucket.remaining("t") == pytest.approx(6.0)


def test_buckets_are_per_token():
    bucket = LeakyBucket(capacity=1.0, leak_rate=0.0, preflight=0.0)
    bucket.settle("a", 5.0)
    assert not bucket.admit("a").allowed
    assert bucket.admit("b").allowed


def fire(url: str, count: int) -> Counter:
    """Outcomes by status code, "dropped" for a closed connection."""
    outcomes: Counter = Counter()
    for _ in range(count):
        try:
            response = requests.get(
                url, headers={"Authorization": "Bearer sandbox-token"}, timeout=5
            )
        except requests.ConnectionError:
            outcomes["dropped"] += 1
        else:
            outcomes[response.status_code] += 1
    return outcomes


def test_faults_at_rate_one_produce_every_kind(serve):
    with serve(faults=1.0, slow_delay=0.05) as server:
        outcomes = fire(terms_url(server), 40)
        stats = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()
    # At rate 1.0 only a slow answer succeeds: it waits, then answers correctly.
    assert outcomes.keys() == {500, 503, 429, 200, "dropped"}
    assert stats["faults"] == {
        "500": outcomes[500],
        "503": outcomes[503],
        "429": outcomes[429],
        "slow": outcomes[200],
        "drop": outcomes["dropped"],
    }
    assert stats["faults_injected"] == 40


def test_a_slow_fault_waits_then_answers_correctly(serve, client):
    with serve(faults=1.0, fault_kinds=("slow",), slow_delay=0.3) as server:
        started = time.perf_counter()
        response = client.get(terms_url(server))
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200 and len(response.json()["enrollment_terms"]) == 3


def test_a_fault_429_asks_for_a_short_wait(serve, client):
    with serve(faults=1.0, fault_kinds=("429",)) as server:
        response = client.get(terms_url(server))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"


def test_a_retried_request_returns_identical_data(serve, client):
    url_path = "/api/v1/courses/1002/students/submissions?student_ids[]=all&per_page=50"
    with serve(faults=0.5, fault_kinds=("500", "503", "429")) as server:
        bodies = []
        for _ in range(200):
            response = client.get(server.url + url_path)
            if response.status_code == 200:
                bodies.append(response.content)
            if len(bodies) == 3:
                break
    assert len(bodies) == 3 and len(set(bodies)) == 1


def test_the_fault_sequence_is_fixed_by_the_seed():
    first = FaultInjector(0.3, seed=5)
    second = FaultInjector(0.3, seed=5)
    other = FaultInjector(0.3, seed=6)
    sequence = [first.draw() for _ in range(200)]
    assert sequence == [second.draw() for _ in range(200)]
    assert sequence != [other.draw() for _ in range(200)]
    assert 30 < sum(kind is not None for kind in sequence) < 90


def test_no_faults_at_rate_zero(server):
    assert fire(terms_url(server), 20) == {200: 20}


def test_fault_options_are_validated():
    with pytest.raises(ValueError):
        FaultInjector(1.5)
    with pytest.raises(ValueError):
        FaultInjector(0.1, kinds=("teapot",))
