"""The generated district: determinism, size, memory independence, ids and people."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.generator import District
from sandbox.layout import COURSE_ID_BASE, ROOT_ACCOUNT_ID, SIZES

ROOT = Path(__file__).resolve().parents[2]


def district_digest(district: District) -> str:
    digest = hashlib.sha256(json.dumps([district.accounts(), district.terms()]).encode())
    for course_id in district.course_ids():
        data = district.course(course_id)
        lists = [data.course, data.sections, data.assignment_groups, data.assignments]
        digest.update(json.dumps([*lists, data.enrollments, data.submissions]).encode())
    return digest.hexdigest()


def test_same_seed_yields_the_same_district():
    assert district_digest(District("small", seed=7)) == district_digest(District("small", seed=7))


def test_same_seed_yields_the_same_district_in_another_process_with_another_hash_seed():
    script = (
        "from sandbox.generator import District; import json;"
        "d = District('small', seed=7); c = d.course(d.course_ids()[5]);"
        "print(json.dumps([c.assignments, c.submissions[:50], c.enrollments]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True
    ).stdout
    here = District("small", seed=7).course(COURSE_ID_BASE + 5)
    expected = [here.assignments, here.submissions[:50], here.enrollments]
    assert json.loads(output) == json.loads(json.dumps(expected))


def test_different_seeds_yield_different_districts():
    assert district_digest(District("small", seed=1)) != district_digest(District("small", seed=2))


def test_sizes_have_the_documented_shape(small_district):
    assert len(small_district.course_ids()) == 40
    schools = [a for a in small_district.accounts() if a["sis_account_id"]]
    assert len(schools) == 3
    district = District("district", seed=0)
    assert len(district.course_ids()) == 1_000
    assert len([a for a in district.accounts() if a["sis_account_id"]]) == 30
    assert len(District("large", seed=0).course_ids()) == 10_000


def test_district_size_has_about_the_documented_numbers_of_rows():
    """Sampled: 50 of the 1,000 courses, scaled up."""
    district = District("district", seed=0)
    sample = district.course_ids()[::20]
    totals = {"sections": 0, "assignments": 0, "submissions": 0}
    for course_id in sample:
        sizes = district.course_list_sizes(course_id)
        for name in totals:
            totals[name] += sizes[name] * 20
    assert 2_500 <= totals["sections"] <= 3_500
    assert 34_000 <= totals["assignments"] <= 46_000
    assert 800_000 <= totals["submissions"] <= 1_200_000


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown size"):
        District("huge")


def test_one_course_of_large_is_generated_without_building_the_others():
    started = time.perf_counter()
    large = District("large", seed=0, cache_size=4)
    last = large.course_ids()[-1]
    data = large.course(last)
    assert time.perf_counter() - started < 1.0
    assert data.course["id"] == last
    assert len(large._cache) == 1


def test_the_course_cache_stays_bounded():
    district = District("small", seed=0, cache_size=5)
    for course_id in district.course_ids():
        district.course(course_id)
    assert len(district._cache) == 5


def test_large_and_small_courses_cost_the_same_to_build():
    """Serving `large` must not need more memory or time per course than `small`."""
    small, large = District("small", seed=0), District("large", seed=0)
    small_rows = sum(len(small.course(c).submissions) for c in small.course_ids()[:20])
    large_rows = sum(len(large.course(c).submissions) for c in large.course_ids()[-20:])
    assert 0.5 < large_rows / small_rows < 2


def test_sub_accounts_are_schools_some_nested_under_a_region(small_district):
    accounts = {a["id"]: a for a in small_district.accounts()}
    schools = [a for a in accounts.values() if a["sis_account_id"]]
    regions = [a for a in accounts.values() if not a["sis_account_id"]]
    assert regions and all(r["parent_account_id"] == ROOT_ACCOUNT_ID for r in regions)
    assert {s["parent_account_id"] for s in schools} == {ROOT_ACCOUNT_ID, regions[0]["id"]}
    assert all(a["root_account_id"] == ROOT_ACCOUNT_ID for a in accounts.values())


def test_every_course_belongs_to_a_school_and_a_term(small_district):
    schools = {a["id"] for a in small_district.accounts() if a["sis_account_id"]}
    terms = {t["id"] for t in small_district.terms()}
    for course_id in small_district.course_ids():
        course = small_district.course_summary(course_id)
        assert course["account_id"] in schools
        assert course["enrollment_term_id"] in terms
        assert course["term"]["id"] == course["enrollment_term_id"]


def test_users_have_globally_unique_ids_and_a_student_takes_several_courses():
    district = District("small", seed=0)
    person_by_id: dict[int, dict] = {}
    courses_of: dict[int, set[int]] = {}
    school_of: dict[int, int] = {}
    for course_id in district.course_ids():
        data = district.course(course_id)
        for enrollment in data.enrollments:
            user = enrollment["user"]
            assert person_by_id.setdefault(user["id"], user) == user
            if enrollment["type"] == "StudentEnrollment":
                courses_of.setdefault(user["id"], set()).add(course_id)
                school = data.course["account_id"]
                assert school_of.setdefault(user["id"], school) == school
    assert sum(len(c) for c in courses_of.values()) / len(courses_of) >= 3
    people = list(person_by_id.values())
    assert all(p["name"] and p["sortable_name"] and p["login_id"] and p["email"] for p in people)
    assert any(p["sis_user_id"] is None for p in people)
    assert sum(p["sis_user_id"] is not None for p in people) / len(people) > 0.9


def test_teachers_are_enrolled_in_every_section_of_their_course(small_district):
    for course_id in small_district.course_ids():
        data = small_district.course(course_id)
        teachers = {e["user_id"] for e in data.enrollments if e["type"] == "TeacherEnrollment"}
        assert teachers
        for teacher in teachers:
            sections = {e["course_section_id"] for e in data.enrollments if e["user_id"] == teacher}
            assert sections == {s["id"] for s in data.sections}


def test_course_lists_are_sorted_by_id_and_ids_are_unique_across_courses(small_district):
    seen: dict[str, set[int]] = {}
    for course_id in small_district.course_ids():
        data = small_district.course(course_id)
        for name in ("sections", "assignment_groups", "assignments", "enrollments", "submissions"):
            ids = [row["id"] for row in getattr(data, name)]
            assert ids == sorted(ids)
            assert not seen.setdefault(name, set()) & set(ids)
            seen[name] |= set(ids)


def test_course_list_sizes_count_what_each_endpoint_serves(small_district):
    course_id = small_district.course_ids()[0]
    data = small_district.course(course_id)
    assert small_district.course_list_sizes(course_id) == {
        "sections": len(data.sections),
        "assignment_groups": len(data.assignment_groups),
        "assignments": len(data.assignments),
        "enrollments": len(data.enrollments),
        "submissions": len(data.submissions),
    }


def test_totals_count_the_minimum_requests_at_100_per_page(small_district):
    totals = small_district.totals()
    assert totals["courses"] == 40
    assert totals["submissions"] == sum(
        small_district.course_list_sizes(c)["submissions"] for c in small_district.course_ids()
    )
    # at least one request per list: 3 account-level lists, 5 per course
    assert totals["minimum_requests"] >= 3 + 5 * 40
    assert totals["minimum_requests"] > totals["submissions"] / 100


def test_sizes_table_matches_the_architecture():
    assert SIZES["small"].schools == 3 and SIZES["district"].courses == 1_000
    assert SIZES["large"].courses == 10 * SIZES["district"].courses
