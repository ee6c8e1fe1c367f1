"""The district as imported from Canvas.

Every row keeps its Canvas id in ``canvas_id`` (unique per table). Foreign keys between imported
rows point at ``canvas_id`` (``to_field``), so the importer can write rows straight from Canvas JSON
without looking up primary keys, and ``dumpdata courses`` shows Canvas ids on both ends.
Rows that disappear from Canvas are kept and flagged ``deleted``.
"""

from django.db import models


class CanvasRow(models.Model):
    """Fields shared by every imported row."""

    canvas_id = models.BigIntegerField(unique=True)
    deleted = models.BooleanField(default=False, help_text="Gone from Canvas; kept for history.")
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Account(CanvasRow):
    """A school (a Canvas sub-account) or the district root account."""

    parent = models.ForeignKey(
        "self",
        to_field="canvas_id",
        db_constraint=False,  # a parent may arrive after its child in the same page stream
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="children",
    )
    name = models.CharField(max_length=255)
    sis_account_id = models.CharField(max_length=255, blank=True, null=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "school"

    def __str__(self) -> str:
        return self.name


class Term(CanvasRow):
    name = models.CharField(max_length=255)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    sis_term_id = models.CharField(max_length=255, blank=True, null=True)

    class Meta:
        ordering = ["-start_at", "name"]

    def __str__(self) -> str:
        return self.name


class Course(CanvasRow):
    class State(models.TextChoices):
        UNPUBLISHED = "unpublished"
        AVAILABLE = "available"
        COMPLETED = "completed"
        DELETED = "deleted"

    account = models.ForeignKey(
        Account, to_field="canvas_id", on_delete=models.PROTECT, related_name="courses"
    )
    term = models.ForeignKey(
        Term,
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="courses",
    )
    name = models.TextField()
    course_code = models.CharField(max_length=255, blank=True)
    sis_course_id = models.CharField(max_length=255, blank=True, null=True)
    workflow_state = models.CharField(max_length=20, choices=State.choices)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    grades_read_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Start of the last import that read this course's grades; the next "
        "incremental import asks Canvas only for grades graded since then.",
    )
    canvas_digest = models.CharField(
        max_length=64,
        blank=True,
        db_default="",  # the importer's raw inserts leave it out
        help_text="Fingerprint of the course as Canvas last described it (all but grades); "
        "an incremental import that reads the same skips rewriting it.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Section(CanvasRow):
    course = models.ForeignKey(
        Course, to_field="canvas_id", on_delete=models.CASCADE, related_name="sections"
    )
    name = models.TextField()
    sis_section_id = models.CharField(max_length=255, blank=True, null=True)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(CanvasRow):
    name = models.TextField()
    sortable_name = models.TextField(blank=True)
    sis_user_id = models.CharField(max_length=255, blank=True, null=True)
    login_id = models.CharField(max_length=255, blank=True, null=True)
    email = models.CharField(max_length=255, blank=True, null=True)

    class Meta:
        ordering = ["sortable_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


class Enrollment(CanvasRow):
    class Type(models.TextChoices):
        STUDENT = "student"
        TEACHER = "teacher"
        TA = "ta"
        DESIGNER = "designer"
        OBSERVER = "observer"

    person = models.ForeignKey(
        Person, to_field="canvas_id", on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(
        Course, to_field="canvas_id", on_delete=models.CASCADE, related_name="enrollments"
    )
    section = models.ForeignKey(
        Section, to_field="canvas_id", on_delete=models.CASCADE, related_name="enrollments"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    state = models.CharField(max_length=30, default="active")

    class Meta:
        indexes = [models.Index(fields=["section", "type", "state"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.type} in section {self.section_id}"


class AssignmentGroup(CanvasRow):
    course = models.ForeignKey(
        Course, to_field="canvas_id", on_delete=models.CASCADE, related_name="assignment_groups"
    )
    name = models.TextField()
    position = models.IntegerField(null=True, blank=True)
    group_weight = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Assignment(CanvasRow):
    course = models.ForeignKey(
        Course, to_field="canvas_id", on_delete=models.CASCADE, related_name="assignments"
    )
    group = models.ForeignKey(
        AssignmentGroup,
        to_field="canvas_id",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )
    name = models.TextField()
    sis_assignment_id = models.CharField(max_length=255, blank=True, null=True)
    description = models.TextField(blank=True, default="")
    published = models.BooleanField(default=False)
    post_to_sis = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True)
    unlock_at = models.DateTimeField(null=True, blank=True)
    lock_at = models.DateTimeField(null=True, blank=True)
    points_possible = models.FloatField(null=True, blank=True)
    grading_type = models.CharField(max_length=30, blank=True, default="points")
    omit_from_final_grade = models.BooleanField(default=False)
    only_visible_to_overrides = models.BooleanField(default=False)
    submission_types = models.JSONField(default=list, blank=True)
    html_url = models.URLField(max_length=500, blank=True, default="")
    canvas_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "name"]
        indexes = [models.Index(fields=["course", "post_to_sis", "deleted"])]

    def __str__(self) -> str:
        return self.name


class AssignmentOverride(CanvasRow):
    class Target(models.TextChoices):
        SECTION = "section"
        STUDENTS = "students"
        GROUP = "group"
        COURSE = "course"

    assignment = models.ForeignKey(
        Assignment, to_field="canvas_id", on_delete=models.CASCADE, related_name="overrides"
    )
    target = models.CharField(max_length=10, choices=Target.choices)
    # No database constraint: an override may name a section Canvas has since deleted.
    section = models.ForeignKey(
        Section,
        to_field="canvas_id",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="overrides",
    )
    student_canvas_ids = models.JSONField(default=list, blank=True)
    group_canvas_id = models.BigIntegerField(null=True, blank=True)
    title = models.TextField(blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    due_at_overridden = models.BooleanField(
        default=False,
        help_text="Canvas sent a due_at key: the override sets the due date (possibly to none).",
    )
    unlock_at = models.DateTimeField(null=True, blank=True)
    lock_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title or f"{self.target} override {self.canvas_id}"


class Submission(CanvasRow):
    # The largest table (a million rows per district). Its foreign keys carry no database
    # constraint: per-row constraint triggers would triple the cost of every import, and the
    # importer only writes grades whose assignment and student it has just written.
    course = models.ForeignKey(
        Course,
        to_field="canvas_id",
        db_constraint=False,
        on_delete=models.CASCADE,
        related_name="submissions",
    )
    assignment = models.ForeignKey(
        Assignment,
        to_field="canvas_id",
        db_constraint=False,
        db_index=False,  # the (assignment, student) index serves lookups by assignment
        on_delete=models.CASCADE,
        related_name="submissions",
    )
    student = models.ForeignKey(
        Person,
        to_field="canvas_id",
        db_constraint=False,
        on_delete=models.CASCADE,
        related_name="submissions",
    )
    score = models.FloatField(null=True, blank=True)
    grade = models.TextField(null=True, blank=True)
    excused = models.BooleanField(default=False)
    late = models.BooleanField(default=False)
    missing = models.BooleanField(default=False)
    workflow_state = models.CharField(max_length=30, blank=True, default="")
    graded_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["assignment", "student"])]

    def __str__(self) -> str:
        return f"{self.student_id} on {self.assignment_id}: {self.grade}"
