"""Plain-row inserts (sync/bulk.py) on whichever database the suite runs on."""

import pytest
from django.utils import timezone

from sync import bulk
from sync.models import PassbackState

pytestmark = pytest.mark.django_db

COLUMNS = ("sourced_id", "kind", "course_canvas_id", "value_hash", "value", "confirmed_at")


def state_rows(count: int, prefix: str) -> list[tuple]:
    now = timezone.now()
    return [
        (f"{prefix}-{n}", "result", 7, f"h{n}", {"score": n, "note": "é ✓"}, now)
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [3, bulk.COPY_FROM_ROWS + 20])  # arrays, then COPY on PostgreSQL
def test_insert_returning_gives_each_new_row_its_primary_key(count):
    returned = bulk.bulk_insert_returning(
        PassbackState, COLUMNS, state_rows(count, "r"), ("id", "sourced_id")
    )

    assert len(returned) == count
    stored = dict(PassbackState.objects.values_list("sourced_id", "id"))
    assert {sourced_id: pk for pk, sourced_id in returned} == stored
    assert PassbackState.objects.get(sourced_id="r-2").value == {"score": 2, "note": "é ✓"}


def test_insert_returning_nothing_inserts_nothing():
    assert bulk.bulk_insert_returning(PassbackState, COLUMNS, [], ("id",)) == []
    assert not PassbackState.objects.exists()
