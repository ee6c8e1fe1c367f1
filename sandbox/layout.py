"""The district's skeleton, computed arithmetically: sizes, id ranges, accounts, terms, people.

Nothing here holds the district in memory: every account, term, person and course summary is
computed from (seed, id) on demand, so `large` costs no more memory than `small`.
"""

from dataclasses import dataclass
from random import Random

from sandbox import names
from sandbox.timestamps import DAY, epoch, iso

ROOT_ACCOUNT_ID = 1
REGION_ID_BASE = 2  # regions: 2, 3, ...
SCHOOL_ID_BASE = 101  # schools: 101, 102, ...
COURSE_ID_BASE = 1001  # courses: 1001, 1002, ... (course index i -> 1001 + i)
SECTION_ID_BASE = 100_000  # + index * 10 + j
GROUP_ID_BASE = 300_000  # + index * 10 + g (assignment groups)
ASSIGNMENT_ID_BASE = 1_000_000  # + index * 100 + k
OVERRIDE_ID_BASE = 3_000_000  # + index * 1000 + n
STUDENT_GROUP_ID_BASE = 50_000_000  # + index * 10 + g (targets of group overrides)
USER_ID_BASE = 20_000_000  # + school * 10_000 + local (teachers < 1000 <= students)
ENROLLMENT_ID_BASE = 30_000_000  # + index * 1000 + n
SUBMISSION_ID_BASE = 100_000_000  # + index * 10_000 + n

STUDENT_LOCAL_BASE = 1000
COURSES_PER_TEACHER = 4
COURSES_PER_STUDENT = 6
STUDENTS_PER_COURSE = 25.5  # mean: 3 sections x 8.5 students


@dataclass(frozen=True, slots=True)
class Size:
    schools: int
    regions: int
    courses: int


SIZES = {
    "small": Size(schools=3, regions=1, courses=40),
    "district": Size(schools=30, regions=3, courses=1_000),
    "large": Size(schools=300, regions=10, courses=10_000),
}


@dataclass(frozen=True, slots=True)
class Term:
    id: int
    name: str
    sis_term_id: str
    start: int
    end: int

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "start_at": iso(self.start),
            "end_at": iso(self.end),
            "sis_term_id": self.sis_term_id,
            "workflow_state": "active",
        }


PAST_TERM = Term(11, "Spring 2026", "2026SP", epoch(2026, 1, 5, 6), epoch(2026, 5, 30, 5, 59, 59))
CURRENT_TERM = Term(
    12, "Fall 2026", "2026FA", epoch(2026, 8, 17, 5), epoch(2026, 12, 19, 5, 59, 59)
)
FUTURE_TERM = Term(13, "Spring 2027", "2027SP", epoch(2027, 1, 5, 6), epoch(2027, 5, 29, 5, 59, 59))
TERMS = (PAST_TERM, CURRENT_TERM, FUTURE_TERM)

# Every block of 20 consecutive courses holds each profile exactly once (in a seed-dependent
# order), so even `small` (40 courses) shows every course-level rule violation at least twice.
PROFILES: tuple[tuple[Term, frozenset[str]], ...] = (
    (CURRENT_TERM, frozenset({"unpublished"})),
    (CURRENT_TERM, frozenset({"no_sis"})),
    (CURRENT_TERM, frozenset({"section_without_sis"})),
    (CURRENT_TERM, frozenset({"sis_from_sections"})),
    (CURRENT_TERM, frozenset({"inactive_section"})),
    (CURRENT_TERM, frozenset({"unusual_groups"})),
    (CURRENT_TERM, frozenset({"own_dates"})),
    (PAST_TERM, frozenset()),
    (PAST_TERM, frozenset({"section_without_sis"})),
    (FUTURE_TERM, frozenset({"unpublished"})),
    (FUTURE_TERM, frozenset()),
) + ((CURRENT_TERM, frozenset()),) * 9


@dataclass(frozen=True, slots=True)
class CourseInfo:
    """What the course builder needs to know about a course, beyond its JSON."""

    id: int
    index: int
    school: int
    term: Term
    traits: frozenset[str]
    subject: tuple[str, str, tuple[str, ...]]
    window: tuple[int, int]  # the course's own dates when set, else its term's
    json: dict


class Layout:
    """Arithmetic over a district of one size and seed: which course is where, and who is who."""

    def __init__(self, size: str, seed: int) -> None:
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
        self.size_name = size
        self.size = SIZES[size]
        self.seed = seed
        self._profile_order = list(range(len(PROFILES)))
        Random(f"{seed}:profiles").shuffle(self._profile_order)

    def rng(self, *parts: object) -> Random:
        # Seeding with a string hashes it with SHA-512: stable across processes, unlike hash().
        return Random(":".join(str(part) for part in (self.seed, *parts)))

    # --- courses -------------------------------------------------------------------------------

    def course_ids(self) -> list[int]:
        return list(range(COURSE_ID_BASE, COURSE_ID_BASE + self.size.courses))

    def has_course(self, course_id: int) -> bool:
        return 0 <= course_id - COURSE_ID_BASE < self.size.courses

    def course_index(self, course_id: int) -> int:
        if not self.has_course(course_id):
            raise KeyError(course_id)
        return course_id - COURSE_ID_BASE

    def school_of(self, index: int) -> int:
        return index % self.size.schools

    def courses_in_school(self, school: int) -> int:
        return (self.size.courses - school + self.size.schools - 1) // self.size.schools

    def course_info(self, course_id: int) -> CourseInfo:
        index = self.course_index(course_id)
        school = self.school_of(index)
        local = index // self.size.schools
        term, traits = PROFILES[self._profile_order[index % len(PROFILES)]]
        rng = self.rng(course_id, "course")
        subject = names.SUBJECTS[rng.randrange(len(names.SUBJECTS))]
        name = subject[0] + (" Honors" if rng.random() < 0.15 else "")
        code = f"{subject[1]}-{local + 1:03d}"
        if term is PAST_TERM:
            state = "completed"
        elif "unpublished" in traits:
            state = "unpublished"
        else:
            state = "available"
        has_course_sis = not traits & {"no_sis", "sis_from_sections"}
        sis_course_id = f"{term.sis_term_id}-{self.school_sis_id(school)}-{code}"
        start_at = end_at = None
        window = (term.start, term.end)
        if "own_dates" in traits:
            window = (term.start + 14 * DAY, term.end - 10 * DAY)
            start_at, end_at = iso(window[0]), iso(window[1])
        course_json = {
            "id": course_id,
            "name": name,
            "course_code": code,
            "account_id": self.school_account_id(school),
            "root_account_id": ROOT_ACCOUNT_ID,
            "enrollment_term_id": term.id,
            "workflow_state": state,
            "start_at": start_at,
            "end_at": end_at,
            "sis_course_id": sis_course_id if has_course_sis else None,
            "term": {
                "id": term.id,
                "name": term.name,
                "start_at": iso(term.start),
                "end_at": iso(term.end),
            },
        }
        return CourseInfo(course_id, index, school, term, traits, subject, window, course_json)

    def teachers_of(self, index: int) -> list[int]:
        """One teacher per four courses of a school; every tenth course is co-taught."""
        school = self.school_of(index)
        local = index // self.size.schools
        count = self.teacher_count(school)
        teacher = local // COURSES_PER_TEACHER
        teachers = [self.user_id(school, teacher)]
        if count > 1 and local % 10 == 3:
            teachers.append(self.user_id(school, (teacher + 1) % count))
        return teachers

    # --- accounts and terms --------------------------------------------------------------------

    def school_account_id(self, school: int) -> int:
        return SCHOOL_ID_BASE + school

    def school_sis_id(self, school: int) -> str:
        return f"SCH{school + 1:04d}"

    def school_parent(self, school: int) -> int:
        # Two schools in three sit one level down, under a region.
        if school % 3 == 0:
            return ROOT_ACCOUNT_ID
        return REGION_ID_BASE + school % self.size.regions

    def accounts(self) -> list[dict]:
        """Every sub-account (regions, then schools), ordered by id."""
        rows = [
            {
                "id": REGION_ID_BASE + r,
                "name": names.REGION_NAMES[r % len(names.REGION_NAMES)]
                + ("" if r < len(names.REGION_NAMES) else f" {r // len(names.REGION_NAMES) + 1}"),
                "parent_account_id": ROOT_ACCOUNT_ID,
                "root_account_id": ROOT_ACCOUNT_ID,
                "sis_account_id": None,  # regions are Canvas-only groupings, unknown to the SIS
                "workflow_state": "active",
            }
            for r in range(self.size.regions)
        ]
        for school in range(self.size.schools):
            rng = self.rng("school", school)
            stem = names.SCHOOL_STEMS[school % len(names.SCHOOL_STEMS)]
            suffix = "" if school < len(names.SCHOOL_STEMS) else f" {school // 30 + 1}"
            kind = names.SCHOOL_KINDS[rng.randrange(len(names.SCHOOL_KINDS))]
            rows.append(
                {
                    "id": self.school_account_id(school),
                    "name": f"{stem}{suffix} {kind}",
                    "parent_account_id": self.school_parent(school),
                    "root_account_id": ROOT_ACCOUNT_ID,
                    "sis_account_id": self.school_sis_id(school),
                    "workflow_state": "active",
                }
            )
        return rows

    def terms(self) -> list[dict]:
        return [term.as_json() for term in TERMS]

    # --- people --------------------------------------------------------------------------------

    def teacher_count(self, school: int) -> int:
        return max(2, -(-self.courses_in_school(school) // COURSES_PER_TEACHER))

    def student_pool(self, school: int) -> int:
        expected = self.courses_in_school(school) * STUDENTS_PER_COURSE / COURSES_PER_STUDENT
        return max(60, round(expected))

    def user_id(self, school: int, local: int) -> int:
        return USER_ID_BASE + school * 10_000 + local

    def student_id(self, school: int, number: int) -> int:
        return self.user_id(school, STUDENT_LOCAL_BASE + number)

    def user(self, user_id: int) -> dict:
        local = (user_id - USER_ID_BASE) % 10_000
        rng = self.rng("user", user_id)
        first = names.FIRST_NAMES[rng.randrange(len(names.FIRST_NAMES))]
        last = names.LAST_NAMES[rng.randrange(len(names.LAST_NAMES))]
        number = user_id - USER_ID_BASE
        if local < STUDENT_LOCAL_BASE:
            sis_user_id: str | None = f"T{number:07d}"
            login = f"{first[0]}{last}{local}".lower()
        else:
            # A few students were created by hand in Canvas and never matched to the SIS.
            sis_user_id = None if rng.random() < 0.02 else f"S{number:07d}"
            login = f"{first}.{last}.{number}".lower()
        return {
            "id": user_id,
            "name": f"{first} {last}",
            "sortable_name": f"{last}, {first}",
            "sis_user_id": sis_user_id,
            "login_id": login,
            "email": f"{login}@sandbox-district.example",
        }
