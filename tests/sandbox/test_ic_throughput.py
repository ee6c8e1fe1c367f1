"""Many concurrent PUTs: each applied exactly once, quickly; a concurrency limit answers 429."""

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator

import requests

from sandbox.ic_faults import IcFaultInjector
from sandbox.ic_roster import IcClass
from tests.sandbox.ic_helpers import IcClient, line_item_body, result_body, some_class, token

PUTS = 2000
THREADS = 4


def planned_results(server) -> Iterator[tuple[IcClass, str, str]]:
    """(class, lineItem sourcedId, student) for as many results as needed."""
    for number in itertools.count():
        klass = some_class(server, skip=number)
        for assignment in range(1, 50):
            for student in sorted(klass.students):
                yield klass, f"gpb-a{assignment}-s{number}", student


def test_two_thousand_result_puts_from_four_threads_are_each_applied_once_quickly(server):
    setup = IcClient(server)
    work = []
    for klass, line_item_id, student in itertools.islice(planned_results(server), PUTS):
        if line_item_id not in server.ic.store.line_items:
            setup.put_line_item(line_item_body(server, klass, sourced_id=line_item_id))
        body = result_body(server, klass, line_item_id=line_item_id, student=student)
        work.append((body["result"]["sourcedId"], json.dumps(body)))
    headers = {"Authorization": f"Bearer {token(server)}", "Content-Type": "application/json"}
    statuses: Counter = Counter()
    lock = threading.Lock()

    def send(chunk: list[tuple[str, str]]) -> None:
        with requests.Session() as session:
            for sourced_id, body in chunk:
                url = f"{server.sis_base_url}/results/{sourced_id}"
                code = session.put(url, data=body, headers=headers, timeout=10).status_code
                with lock:
                    statuses[code] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(work[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert statuses == {201: PUTS}
    store = server.ic.store
    assert len(store.results) == PUTS
    assert all(store.writes("result", sourced_id) == 1 for sourced_id, _ in work)
    assert elapsed < 30, f"{PUTS / elapsed:.0f} PUTs/s"


def test_more_requests_in_flight_than_allowed_get_429_server_busy(serve):
    with serve(sis_max_in_flight=1) as server:
        klass = some_class(server)
        clients = [IcClient(server), IcClient(server)]
        server.ic.faults = IcFaultInjector(1.0, kinds=("slow",), slow_delay=0.5)
        responses: list = []

        def put(client: IcClient) -> None:
            responses.append(client.put_line_item(line_item_body(server, klass)))

        first = threading.Thread(target=put, args=(clients[0],))
        first.start()
        time.sleep(0.2)
        put(clients[1])
        first.join()
    busy, done = responses
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
    assert done.status_code == 201
    assert server.ic.stats.as_json()["throttled"] == 1
