"""Infinite Campus categories per class, fetched over OneRoster and kept for the rule book."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import as_completed
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.models import Section
from sync.models import SisCategory
from sync.oneroster import OneRosterClient, OneRosterError
from sync.sis_slots import sis_permits

logger = logging.getLogger(__name__)


def sis_categories_refresh(
    *, client: OneRosterClient, course_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[str]:
    """Re-read the categories of every class (section with a SIS id) of these courses (default
    all); returns one message per class that failed. A failed class keeps its last categories.

    Classes are read as many at a time as the IC permits held (sync/sis_slots.py). A class whose
    categories are as before is left alone, so ``fetched_at`` says when they last changed (the
    nightly passback replans a course only after a change); a passback plan passes its own
    ``now``, so what it refreshed is not a change after it.
    """
    sections = Section.objects.filter(deleted=False, sis_section_id__isnull=False)
    if course_ids is not None:
        sections = sections.filter(course_id__in=list(course_ids))
    class_ids = sorted(set(sections.values_list("sis_section_id", flat=True)))
    if not class_ids:
        return []
    known: dict[str, set[tuple]] = defaultdict(set)
    for row in SisCategory.objects.filter(class_sourced_id__in=class_ids).values_list(
        "class_sourced_id", "sourced_id", "title", "status"
    ):
        known[row[0]].add(row[1:])
    errors = []
    changed: dict[str, set[tuple]] = {}
    now = now or timezone.now()
    with sis_permits() as permits, permits.pool() as pool:
        futures = {pool.submit(client.categories, class_id): class_id for class_id in class_ids}
        for future in as_completed(futures):
            class_id = futures[future]
            permits.keep()
            try:
                categories = future.result()
            except OneRosterError as exc:
                if exc.kind == "auth":
                    for other in futures:
                        other.cancel()
                    _replace(changed, now)  # keep what was read before
                    raise  # every class would fail the same way: say it once
                errors.append(f"class {class_id}: {exc}")
                continue
            fresh = {
                (
                    str(c.get("sourcedId", "")),
                    str(c.get("title", ""))[:255],
                    str(c.get("status", "active"))[:20],
                )
                for c in categories
                if isinstance(c, dict) and c.get("sourcedId")
            }
            if fresh != known.get(class_id, set()):
                changed[class_id] = fresh
                if len(changed) >= WRITE_EVERY:
                    _replace(changed, now)
                    changed = {}
    _replace(changed, now)
    if errors:
        logger.warning("IC categories: %d classes failed, e.g. %s", len(errors), errors[0])
    return errors


WRITE_EVERY = 100  # classes whose categories changed, written in one transaction


def _replace(changed: dict[str, set[tuple]], now: datetime) -> None:
    """Store these classes' categories in place of what was kept for them."""
    if not changed:
        return
    with transaction.atomic():
        SisCategory.objects.filter(class_sourced_id__in=list(changed)).delete()
        SisCategory.objects.bulk_create(
            SisCategory(
                class_sourced_id=class_id,
                sourced_id=sourced_id,
                title=title,
                status=status,
                fetched_at=now,
            )
            for class_id, fresh in changed.items()
            for sourced_id, title, status in sorted(fresh)
        )
