"""Classes and their categories, as the simulated IC derives them from the Canvas district."""

import pytest
import requests

from sandbox.generator import District
from sandbox.ic_roster import IC_ONLY_CATEGORIES, Roster
from sandbox.ic_schema import PayloadValidator
from sandbox.names import UNUSUAL_GROUPS
from tests.sandbox.ic_helpers import IcClient, line_item_body, ref, some_class


@pytest.fixture
def ic(server):
    client = IcClient(server)
    yield client
    client.close()


def test_every_canvas_section_with_a_sis_id_is_a_class(small_district):
    roster = Roster(small_district)
    for course_id in small_district.course_ids()[:10]:
        sections = small_district.course(course_id).sections
        for section in sections:
            klass = roster.get(section["sis_section_id"] or "none")
            assert (klass is not None) == bool(section["sis_section_id"])


def test_a_class_knows_the_sis_ids_of_its_active_students(small_district):
    roster = Roster(small_district)
    data = small_district.course(1001)
    section = next(s for s in data.sections if s["sis_section_id"])
    expected = {
        row["user"]["sis_user_id"]
        for row in data.enrollments
        if row["course_section_id"] == section["id"]
        and row["type"] == "StudentEnrollment"
        and row["user"]["sis_user_id"]
    }
    assert roster.get(section["sis_section_id"]).students == expected


def test_categories_match_most_but_not_all_canvas_group_names(small_district):
    roster = Roster(small_district)
    matched = total = 0
    for course_id in small_district.course_ids():
        data = small_district.course(course_id)
        groups = {g["name"] for g in data.assignment_groups} - set(UNUSUAL_GROUPS)
        for klass in roster.classes_of_course(course_id).values():
            titles = {c["title"] for c in klass.categories}
            assert set(IC_ONLY_CATEGORIES) <= titles
            matched += len(groups & titles)
            total += len(groups)
    assert 0.8 < matched / total < 0.98


def test_teacher_invented_group_names_are_never_ic_categories(small_district):
    roster = Roster(small_district)
    for course_id in small_district.course_ids():
        for klass in roster.classes_of_course(course_id).values():
            assert not {c["title"] for c in klass.categories} & set(UNUSUAL_GROUPS)


def test_categories_are_the_same_for_the_same_seed_and_differ_for_another():
    def titles(seed: int) -> list[tuple[str, ...]]:
        district = District("small", seed=seed)
        roster = Roster(district)
        return [
            tuple(c["sourcedId"] for c in klass.categories)
            for course_id in district.course_ids()
            for klass in roster.classes_of_course(course_id).values()
        ]

    assert titles(4) == titles(4)
    assert titles(4) != titles(5)


def test_the_categories_endpoint_serves_oneroster_category_objects(server, ic):
    klass = some_class(server)
    response = ic.get(f"classes/{klass.sourced_id}/categories")
    assert response.status_code == 200
    body = response.json()
    PayloadValidator().check("CategoriesSetDType", body)
    assert [c["title"] for c in body["categories"]] == [c["title"] for c in klass.categories]
    assert body["categories"][0]["sourcedId"].startswith(f"cat-{klass.sourced_id}-")
    assert response.headers["X-Total-Count"] == str(len(klass.categories))


def test_categories_page_with_limit_and_offset(server, ic):
    klass = some_class(server)
    path = f"classes/{klass.sourced_id}/categories"
    first = ic.get(path, limit=2)
    rest = ic.get(path, limit=2, offset=2)
    everything = ic.get(path).json()["categories"]
    assert len(first.json()["categories"]) == 2
    assert first.json()["categories"] + rest.json()["categories"] == everything[:4]
    assert first.headers["X-Total-Count"] == str(len(everything))
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]


def test_a_bad_limit_is_a_400_invalid_selection(server, ic):
    response = ic.get(f"classes/{some_class(server).sourced_id}/categories", limit=0)
    assert response.status_code == 400
    minor = response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert minor["imsx_codeMinorFieldValue"] == "invalid_selection_field"


def test_an_unknown_class_is_a_404_imsx_unknown_object(ic):
    response = ic.get("classes/NO-SUCH-CLASS/categories")
    assert response.status_code == 404
    assert response.json() == {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": "Unknown class 'NO-SUCH-CLASS'",
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": "unknownobject",
                }
            ]
        },
    }


def test_the_v1p1_root_answers_errors_in_a_status_info_set(server):
    ic = IcClient(server, version="1.1")
    response = ic.get("classes/NO-SUCH-CLASS/categories")
    assert response.status_code == 404
    (info,) = response.json()["statusInfoSet"]
    assert info["imsx_codeMajor"] == "failure"
    assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "unknown object"
    )


def test_the_v1p1_root_serves_the_same_categories(server, ic):
    klass = some_class(server)
    v11 = IcClient(server, version="1.1").get(f"classes/{klass.sourced_id}/categories")
    assert v11.json() == ic.get(f"classes/{klass.sourced_id}/categories").json()


def test_a_section_renamed_in_canvas_is_unknown_to_ic(serve):
    district = District("small", seed=0)
    with serve(district) as server:
        klass = some_class(server)
        district.rename_section_sis(klass.course_id, klass.section_id, "RENAMED-IN-CANVAS")
        ic = IcClient(server)
        assert ic.get("classes/RENAMED-IN-CANVAS/categories").status_code == 404
        assert ic.get(f"classes/{klass.sourced_id}/categories").status_code == 200


def test_the_control_endpoint_describes_a_class(server):
    klass = some_class(server)
    url = f"{server.url}/_ic/classes/{klass.sourced_id}"
    body = requests.get(url, timeout=5).json()
    assert body["school"] == klass.school and body["students"] == sorted(klass.students)
    by_course = requests.get(
        f"{server.url}/_ic/classes", params={"course_id": klass.course_id}, timeout=5
    ).json()
    assert klass.sourced_id in [c["sourcedId"] for c in by_course["classes"]]


def test_the_v1p1_root_lists_district_wide_categories(server):
    response = IcClient(server, version="1.1").get("categories")
    assert response.status_code == 200
    categories = response.json()["categories"]
    assert all("metadata" not in c for c in categories)  # global: no metadata.classId
    assert {"Uncategorized", "Final Exam"} <= {c["title"] for c in categories}
    assert response.headers["X-Total-Count"] == str(len(categories))


def test_a_v1p2_line_item_needs_a_category_of_its_class_not_a_global_one(server, ic):
    (global_category, *_) = ic.get("categories").json()["categories"]
    klass = some_class(server)
    category = ref(server, "category", global_category["sourcedId"])
    response = ic.put_line_item(line_item_body(server, klass, category=category))
    assert response.status_code == 422
    assert "lineItem.category.sourcedId" in response.json()["imsx_description"]
