"""Helpers for tests of the simulated Infinite Campus: a tiny OneRoster client and payloads."""

import requests

from sandbox.ic_roster import IcClass
from sandbox.server import SandboxServer

CLIENT = ("sandbox-client", "sandbox-secret")
STAMP = "2026-09-01T12:00:00.000Z"


def token(server: SandboxServer, auth: tuple[str, str] = CLIENT) -> str:
    response = requests.post(
        server.sis_token_url, auth=auth, data={"grant_type": "client_credentials"}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class IcClient:
    """A session against one root, with a fresh token: `ic.put("lineItems", id, body)`."""

    def __init__(self, server: SandboxServer, *, version: str = "1.2", vendor: str | None = None):
        self.server = server
        self.root = server.sis_base_url if version == "1.2" else server.sis_v11_base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(server)}"
        if vendor is not None:
            self.session.headers["x-vendor-authorization"] = vendor

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(f"{self.root}/{path}", params=params, timeout=10)

    def put(self, collection: str, sourced_id: str, body: object) -> requests.Response:
        return self.session.put(f"{self.root}/{collection}/{sourced_id}", json=body, timeout=10)

    def delete(self, collection: str, sourced_id: str) -> requests.Response:
        return self.session.delete(f"{self.root}/{collection}/{sourced_id}", timeout=10)

    def put_line_item(self, body: dict) -> requests.Response:
        return self.put("lineItems", body["lineItem"]["sourcedId"], body)

    def put_result(self, body: dict) -> requests.Response:
        return self.put("results", body["result"]["sourcedId"], body)

    def close(self) -> None:
        self.session.close()


def some_class(server: SandboxServer, skip: int = 0) -> IcClass:
    """A class with at least three students (the `skip`-th such class of the district)."""
    for course_id in server.district.course_ids():
        for klass in server.ic.roster.classes_of_course(course_id).values():
            if len(klass.students) >= 3:
                if skip == 0:
                    return klass
                skip -= 1
    raise AssertionError("the district has no class with students")


def ref(server: SandboxServer, kind: str, sourced_id: str) -> dict:
    path = {"class": "classes", "org": "orgs", "category": "categories"}.get(kind, f"{kind}s")
    return {
        "href": f"{server.sis_base_url}/{path}/{sourced_id}",
        "sourcedId": sourced_id,
        "type": kind,
    }


def line_item_body(
    server: SandboxServer, klass: IcClass, sourced_id: str = "gpb-a1-s1", **changes
) -> dict:
    item = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": STAMP,
        "title": "Quiz 1",
        "description": "",
        "assignDate": "2026-09-01T00:00:00.000Z",
        "dueDate": "2026-09-08T05:59:59.000Z",
        "class": ref(server, "class", klass.sourced_id),
        "school": ref(server, "org", klass.school),
        "category": ref(server, "category", klass.categories[0]["sourcedId"]),
        "resultValueMin": 0.0,
        "resultValueMax": 10.0,
    }
    return {"lineItem": {**item, **changes}}


def result_body(
    server: SandboxServer,
    klass: IcClass,
    line_item_id: str = "gpb-a1-s1",
    student: str | None = None,
    sourced_id: str | None = None,
    **changes,
) -> dict:
    student = student or sorted(klass.students)[0]
    item = {
        "sourcedId": sourced_id or f"{line_item_id}-u{student}",
        "status": "active",
        "dateLastModified": STAMP,
        "lineItem": ref(server, "lineItem", line_item_id),
        "student": ref(server, "user", student),
        "class": ref(server, "class", klass.sourced_id),
        "scoreStatus": "fully graded",
        "score": 8.5,
        "scoreDate": "2026-09-02",
        "late": "false",
        "missing": "false",
    }
    return {"result": {**item, **changes}}


def without(body: dict, field: str) -> dict:
    """The body with one top-level field of its object removed."""
    ((kind, item),) = body.items()
    return {kind: {k: v for k, v in item.items() if k != field}}


def description(response: requests.Response) -> str:
    return response.json()["imsx_description"]


def code_minor(response: requests.Response) -> str:
    body = response.json()
    info = body["statusInfoSet"][0] if "statusInfoSet" in body else body
    return info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
