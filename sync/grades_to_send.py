"""How many grades a passback would send now, per (assignment, section), counted in one query.

It asks the same questions as the passback's planning (sync/passback.py, ``_CoursePlan``) but in
SQL, so that a page can show the figure for a whole course without loading its grades: a grade
is sent when its student is an active student of the section with a SIS id, it has a value
(excused, or a score of zero or more), it was graded inside the sync window, and Infinite Campus
does not already hold that value: the ``PassbackState`` of its result, compared field by field
(equal fields are exactly what makes the passback's value hashes equal). Whether a pair is
blocked is not decided here; callers add up the pairs that will go.

One hand-written statement rather than the ORM: the page asks it on every load, and building
the equivalent queryset (a filtered join, a computed sourcedId, two correlated JSON tests) cost
more than running it. Only the JSON reads differ between PostgreSQL and SQLite.
"""

from datetime import datetime

from django.db import connection

from courses.models import Enrollment, Person, Section, Submission
from sync.models import PassbackState

# What IC holds equals what would be sent: {scoreStatus, score?, late, missing, class}.
_HELD_SAME = {
    "postgresql": """
        st.value ->> 'class' = sec.sis_section_id
        AND st.value -> 'late' = to_jsonb(s.late)
        AND st.value -> 'missing' = to_jsonb(s.missing)
        AND CASE WHEN s.excused THEN st.value ->> 'scoreStatus' = 'exempt'
                 ELSE st.value ->> 'scoreStatus' = 'fully graded'
                      AND (st.value ->> 'score')::double precision = s.score END
    """,
    # SQLite reads JSON true/false as 1/0, as it stores booleans.
    "sqlite": """
        json_extract(st.value, '$.class') = sec.sis_section_id
        AND json_extract(st.value, '$.late') = s.late
        AND json_extract(st.value, '$.missing') = s.missing
        AND CASE WHEN s.excused THEN json_extract(st.value, '$.scoreStatus') = 'exempt'
                 ELSE json_extract(st.value, '$.scoreStatus') = 'fully graded'
                      AND json_extract(st.value, '$.score') = s.score END
    """,
}

_SQL = """
SELECT s.assignment_id, e.section_id, COUNT(*)
FROM {submission} s
JOIN {enrollment} e
  ON e.person_id = s.student_id AND e.course_id = %s
 AND e.type = 'student' AND e.state = 'active' AND NOT e.deleted
JOIN {person} p ON p.canvas_id = s.student_id
JOIN {section} sec ON sec.canvas_id = e.section_id
LEFT JOIN {state} st
  ON st.sourced_id = 'gpb-a' || s.assignment_id || '-s' || e.section_id || '-u' || s.student_id
WHERE s.course_id = %s AND NOT s.deleted AND s.graded_at >= %s
  AND (s.excused OR s.score >= 0)
  AND p.sis_user_id IS NOT NULL AND p.sis_user_id <> ''
  AND CASE WHEN st.id IS NOT NULL AND ({held_same}) THEN 1 ELSE 0 END = 0
GROUP BY s.assignment_id, e.section_id
"""


def changed_grade_counts(*, course_id: int, window_start: datetime) -> dict[tuple[int, int], int]:
    """{(assignment canvas id, section canvas id): grades a passback would send now}.

    Pairs with nothing to send are left out. Every section a student sits in counts, as the
    passback sends a result per section; blocked pairs and sections without a SIS id are the
    caller's to skip.
    """
    sql = _SQL.format(
        submission=Submission._meta.db_table,
        enrollment=Enrollment._meta.db_table,
        person=Person._meta.db_table,
        section=Section._meta.db_table,
        state=PassbackState._meta.db_table,
        held_same=_HELD_SAME[connection.vendor],
    )
    since = connection.ops.adapt_datetimefield_value(window_start)
    with connection.cursor() as cursor:
        cursor.execute(sql, [course_id, course_id, since])
        return {(assignment, section): n for assignment, section, n in cursor.fetchall()}
