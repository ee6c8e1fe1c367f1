"""Infinite Campus categories per class, fetched over OneRoster and kept for the rule book."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from courses.models import Section
from sync.models import SisCategory
from sync.oneroster import OneRosterClient, OneRosterError

logger = logging.getLogger(__name__)


def sis_categories_refresh(
    *, client: OneRosterClient, course_ids: Iterable[int] | None = None
) -> list[str]:
    """Re-read the categories of every class (section with a SIS id) of these courses (default
    all); returns one message per class that failed. A failed class keeps its last categories."""
    sections = Section.objects.filter(deleted=False, sis_section_id__isnull=False)
    if course_ids is not None:
        sections = sections.filter(course_id__in=list(course_ids))
    errors = []
    now = timezone.now()
    for class_id in sorted(set(sections.values_list("sis_section_id", flat=True))):
        try:
            categories = client.categories(class_id)
        except OneRosterError as exc:
            if exc.kind == "auth":
                raise  # every class would fail the same way: say it once
            errors.append(f"class {class_id}: {exc}")
            continue
        rows = [
            SisCategory(
                class_sourced_id=class_id,
                sourced_id=str(c.get("sourcedId", "")),
                title=str(c.get("title", ""))[:255],
                status=str(c.get("status", "active"))[:20],
                fetched_at=now,
            )
            for c in categories
            if isinstance(c, dict) and c.get("sourcedId")
        ]
        with transaction.atomic():
            SisCategory.objects.filter(class_sourced_id=class_id).delete()
            SisCategory.objects.bulk_create(rows)
    if errors:
        logger.warning("IC categories: %d classes failed, e.g. %s", len(errors), errors[0])
    return errors
