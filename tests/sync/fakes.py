"""An in-memory stand-in for the Canvas client, for importer logic tests."""

from collections.abc import Iterator
from datetime import datetime


def sub_account(cid: int, name: str = "", parent: int = 1, sis: str | None = None) -> dict:
    return {
        "id": cid,
        "name": name or f"School {cid}",
        "parent_account_id": parent,
        "root_account_id": 1,
        "sis_account_id": sis or f"SCH{cid}",
        "workflow_state": "active",
    }


def term(cid: int = 1) -> dict:
    return {
        "id": cid,
        "name": f"Term {cid}",
        "start_at": "2026-08-15T05:00:00Z",
        "end_at": "2026-12-20T05:00:00Z",
        "sis_term_id": f"T{cid}",
        "workflow_state": "active",
    }


def course(cid: int, account: int = 10, **fields: object) -> dict:
    return {
        "id": cid,
        "name": f"Course {cid}",
        "course_code": f"C{cid}",
        "account_id": account,
        "enrollment_term_id": 1,
        "workflow_state": "available",
        "start_at": None,
        "end_at": None,
        "sis_course_id": f"SIS-C{cid}",
        **fields,
    }


def section(cid: int, course_id: int, **fields: object) -> dict:
    return {
        "id": cid,
        "course_id": course_id,
        "name": f"Period {cid}",
        "sis_section_id": f"SIS-S{cid}",
        "start_at": None,
        "end_at": None,
        **fields,
    }


def group(cid: int, name: str = "Homework") -> dict:
    return {"id": cid, "name": name, "position": 1, "group_weight": 0}


def assignment(cid: int, course_id: int, group_id: int | None = None, **fields: object) -> dict:
    return {
        "id": cid,
        "course_id": course_id,
        "name": f"Assignment {cid}",
        "description": "",
        "assignment_group_id": group_id,
        "published": True,
        "workflow_state": "published",
        "post_to_sis": True,
        "due_at": "2026-10-01T05:59:00Z",
        "unlock_at": None,
        "lock_at": None,
        "points_possible": 10.0,
        "grading_type": "points",
        "omit_from_final_grade": False,
        "only_visible_to_overrides": False,
        "submission_types": ["online_upload"],
        "updated_at": "2026-09-01T00:00:00Z",
        "html_url": f"https://canvas.example/courses/{course_id}/assignments/{cid}",
        "overrides": [],
        **fields,
    }


def enrollment(
    cid: int,
    user_id: int,
    course_id: int,
    section_id: int,
    kind: str = "StudentEnrollment",
    **user: object,
) -> dict:
    return {
        "id": cid,
        "user_id": user_id,
        "course_id": course_id,
        "course_section_id": section_id,
        "type": kind,
        "enrollment_state": "active",
        "user": {
            "id": user_id,
            "name": f"Person {user_id}",
            "sortable_name": f"{user_id}, P",
            "sis_user_id": f"U{user_id}",
            "login_id": f"u{user_id}",
            **user,
        },
    }


def submission(cid: int, assignment_id: int, user_id: int, **fields: object) -> dict:
    return {
        "id": cid,
        "assignment_id": assignment_id,
        "user_id": user_id,
        "score": 8.0,
        "grade": "8",
        "excused": False,
        "late": False,
        "missing": False,
        "workflow_state": "graded",
        "graded_at": "2026-10-02T12:00:00Z",
        "posted_at": "2026-10-02T12:00:00Z",
        **fields,
    }


class FakeCanvas:
    """Serves a district held in dicts through the CanvasClient interface."""

    def __init__(self) -> None:
        self.accounts: list[dict] = []
        self.terms_list: list[dict] = []
        self.courses_list: list[dict] = []
        self.course_data: dict[int, dict[str, list]] = {}
        self.errors: dict[tuple[str, int | None], Exception] = {}
        self.graded_since_seen: dict[int, datetime | None] = {}
        self.requests_made = 0

    def add_course(self, item: dict) -> dict[str, list]:
        self.courses_list.append(item)
        data: dict[str, list] = {
            k: [] for k in ("sections", "groups", "assignments", "enrollments", "submissions")
        }
        self.course_data[item["id"]] = data
        return data

    def _pages(self, what: str, key: int | None, items: list) -> Iterator[list[dict]]:
        self.requests_made += 1
        if (what, key) in self.errors:
            raise self.errors[(what, key)]
        yield list(items)

    def sub_accounts(self, account_id: int) -> Iterator[list[dict]]:
        return self._pages("sub_accounts", None, self.accounts)

    def terms(self, account_id: int) -> Iterator[list[dict]]:
        return self._pages("terms", None, self.terms_list)

    def courses(self, account_id: int) -> Iterator[list[dict]]:
        return self._pages("courses", None, self.courses_list)

    def sections(self, course_id: int) -> Iterator[list[dict]]:
        return self._pages("sections", course_id, self.course_data[course_id]["sections"])

    def assignment_groups(self, course_id: int) -> Iterator[list[dict]]:
        return self._pages("groups", course_id, self.course_data[course_id]["groups"])

    def assignments(self, course_id: int) -> Iterator[list[dict]]:
        return self._pages("assignments", course_id, self.course_data[course_id]["assignments"])

    def enrollments(self, course_id: int) -> Iterator[list[dict]]:
        return self._pages("enrollments", course_id, self.course_data[course_id]["enrollments"])

    def submissions(
        self, course_id: int, graded_since: datetime | None = None
    ) -> Iterator[list[dict]]:
        self.graded_since_seen[course_id] = graded_since
        items = self.course_data[course_id]["submissions"]
        if graded_since is not None:
            items = [
                s
                for s in items
                if s.get("graded_at") and datetime.fromisoformat(s["graded_at"]) >= graded_since
            ]
        return self._pages("submissions", course_id, items)

    @property
    def requests_made_here(self) -> int:
        return self.requests_made

    def close(self) -> None:
        pass

    def __enter__(self) -> "FakeCanvas":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def small_district() -> FakeCanvas:
    """Two schools, two courses of two sections, three assignments, four students."""
    canvas = FakeCanvas()
    canvas.accounts = [sub_account(10), sub_account(11)]
    canvas.terms_list = [term(1)]
    for cid, account in ((100, 10), (200, 11)):
        data = canvas.add_course(course(cid, account))
        data["sections"] = [section(cid + 1, cid), section(cid + 2, cid)]
        data["groups"] = [group(cid + 5)]
        data["assignments"] = [assignment(cid * 10 + n, cid, cid + 5) for n in range(3)]
        data["enrollments"] = [
            enrollment(cid * 10 + 9, 9000 + cid, cid, cid + 1, "TeacherEnrollment")
        ]
        for n in range(4):
            data["enrollments"].append(enrollment(cid * 10 + n, 5000 + n, cid, cid + 1 + n % 2))
            for a in data["assignments"]:
                data["submissions"].append(submission(a["id"] * 100 + n, a["id"], 5000 + n))
    return canvas
