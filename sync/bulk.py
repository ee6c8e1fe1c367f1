"""Set-based upserts keyed on ``canvas_id``, for PostgreSQL and SQLite alike.

The importer writes about a million rows per district. Building ORM instances for each would cost
more than the network and the database together, so rows travel as plain tuples into one
multi-row ``INSERT ... ON CONFLICT (canvas_id) DO UPDATE`` per batch. The update only fires when a
value really changed (``IS DISTINCT FROM``), which keeps incremental imports nearly write-free.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

# PostgreSQL allows 65,535 bind parameters per statement, SQLite 32,766 (3.32+); stay well below.
MAX_PARAMS_PER_STATEMENT = 30_000

Converter = Callable[[Any], Any]


def _converters(model: type[models.Model], columns: Sequence[str]) -> list[Converter | None]:
    """Per column, the adaptation the ORM would apply, or None when the value passes as is."""
    out: list[Converter | None] = []
    for name in columns:
        field = model._meta.get_field(name)  # also finds a foreign key by its attname
        if isinstance(field, models.DateTimeField | models.JSONField):
            out.append(lambda value, f=field: f.get_db_prep_save(value, connection))
        else:
            out.append(None)
    return out


def bulk_upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    compare: Sequence[str] | None = None,
    touch: str | None = "imported_at",
    now: Any = None,
) -> int:
    """Insert or update ``rows`` (tuples ordered like ``columns``, which include ``canvas_id``).

    ``compare`` names the columns whose change triggers an update (default: all but canvas_id);
    ``touch`` is a timestamp column set to ``now`` on insert and whenever a row changes.
    Returns the number of rows inserted or changed.
    """
    columns = list(columns)
    compare = [c for c in (compare or columns) if c != "canvas_id"]
    all_columns = columns + ([touch] if touch else [])
    table = connection.ops.quote_name(model._meta.db_table)
    qn = connection.ops.quote_name
    column_sql = ", ".join(qn(c) for c in all_columns)
    set_sql = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in all_columns if c != "canvas_id")
    changed_sql = " OR ".join(f"{table}.{qn(c)} IS DISTINCT FROM excluded.{qn(c)}" for c in compare)
    row_sql = "(" + ", ".join(["%s"] * len(all_columns)) + ")"
    converters = _converters(model, all_columns)
    touched = now if touch else None
    batch_size = max(1, MAX_PARAMS_PER_STATEMENT // len(all_columns))

    written = 0
    batch: list[Any] = []
    count = 0

    def flush() -> int:
        sql = (
            f"INSERT INTO {table} ({column_sql}) VALUES {', '.join([row_sql] * count)} "
            f"ON CONFLICT ({qn('canvas_id')}) DO UPDATE SET {set_sql} WHERE {changed_sql}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, batch)
            return max(cursor.rowcount, 0)

    for row in rows:
        values = list(row) + ([touched] if touch else [])
        for i, convert in enumerate(converters):
            if convert is not None and values[i] is not None:
                values[i] = convert(values[i])
        batch.extend(values)
        count += 1
        if count >= batch_size:
            written += flush()
            batch, count = [], 0
    if count:
        written += flush()
    return written


def mark_deleted(queryset: models.QuerySet, seen: set[int]) -> int:
    """Flag as deleted every live row of ``queryset`` whose canvas_id was not seen in Canvas."""
    gone = [
        pk
        for pk, cid in queryset.filter(deleted=False).values_list("pk", "canvas_id")
        if cid not in seen
    ]
    total = 0
    for start in range(0, len(gone), 500):
        total += queryset.model.objects.filter(pk__in=gone[start : start + 500]).update(
            deleted=True
        )
    return total
