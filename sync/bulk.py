"""Set-based upserts keyed on ``canvas_id``, for PostgreSQL and SQLite alike.

The importer writes about a million rows per district. Building ORM instances for each would cost
more than the network and the database together, so rows travel as plain tuples: on PostgreSQL
through COPY into a scratch table, on SQLite as multi-row VALUES, then one
``INSERT ... ON CONFLICT (canvas_id) DO UPDATE``. The update only fires when a value really
changed (``IS DISTINCT FROM``), which keeps incremental imports nearly write-free.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db import connection, models, transaction
from django.utils import timezone

# PostgreSQL allows 65,535 bind parameters per statement, SQLite 32,766 (3.32+); stay well below.
MAX_PARAMS_PER_STATEMENT = 30_000
COPY_FROM_ROWS = 500

Converter = Callable[[Any], Any]


def _sqlite_datetime(value: datetime) -> str:
    # What Django's SQLite backend stores: naive UTC text. Done here because going through
    # Field.get_db_prep_save costs more per value than everything else in an import.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _converters(model: type[models.Model], columns: Sequence[str]) -> list[Converter | None]:
    """Per column, the adaptation the ORM would apply, or None when the value passes as is."""
    out: list[Converter | None] = []
    for name in columns:
        field = model._meta.get_field(name)  # also finds a foreign key by its attname
        if isinstance(field, models.JSONField):
            out.append(lambda value, f=field: f.get_db_prep_save(value, connection))
        elif isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
            out.append(_sqlite_datetime)
        else:
            out.append(None)  # psycopg adapts aware datetimes itself
    return out


def bulk_upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    compare: Sequence[str] | None = None,
    touch: str | None = "imported_at",
    now: Any = None,
    key: str = "canvas_id",
) -> int:
    """Insert or update ``rows`` (tuples ordered like ``columns``, which include ``key``, a
    column with a unique constraint).

    ``compare`` names the columns whose change triggers an update (default: all but the key);
    ``touch`` is a timestamp column set to ``now`` on insert and whenever a row changes.
    Returns the number of rows inserted or changed.
    """
    columns = list(columns)
    compare = [c for c in (compare or columns) if c != key]
    all_columns = columns + ([touch] if touch else [])
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    set_sql = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in all_columns if c != key)
    changed_sql = " OR ".join(f"{table}.{qn(c)} IS DISTINCT FROM excluded.{qn(c)}" for c in compare)
    upsert_tail = f" ON CONFLICT ({qn(key)}) DO UPDATE SET {set_sql} WHERE {changed_sql}"
    extra = [now] if touch else []
    return _insert_rows(model, all_columns, ([*row, *extra] for row in rows), upsert_tail)


def bulk_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert plain rows (tuples ordered like ``columns``) without building model instances."""
    return _insert_rows(model, list(columns), (list(row) for row in rows), "")


def bulk_insert_returning(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    returning: Sequence[str],
) -> list[tuple]:
    """Insert plain rows and return the ``returning`` columns of each new row (in no promised
    order: return a key with the primary key to match them)."""
    qn = connection.ops.quote_name
    found: list[tuple] = []
    tail = " RETURNING " + ", ".join(qn(c) for c in returning)
    _insert_rows(model, list(columns), (list(row) for row in rows), tail, found)
    return found


def _insert_rows(
    model: type[models.Model],
    all_columns: list[str],
    rows: Iterable[list[Any]],
    tail: str,
    returned: list[tuple] | None = None,
) -> int:
    """INSERT the rows (each a list ordered like ``all_columns``) followed by ``tail`` (an
    ON CONFLICT or RETURNING clause, or nothing); returns the rows written. What a RETURNING
    tail returns is added to ``returned``."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column_sql = ", ".join(qn(c) for c in all_columns)
    converters = _converters(model, all_columns)
    converting = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    rows = list(rows)
    if not rows:
        return 0
    for values in rows:
        for i, convert in converting:
            if values[i] is not None:
                values[i] = convert(values[i])
    if connection.vendor == "postgresql":
        # COPY pays for a scratch table (a few catalog writes): worth it for many rows only.
        if len(rows) >= COPY_FROM_ROWS:
            return _upsert_by_copy(table, column_sql, tail, iter(rows), returned)
        types = [model._meta.get_field(c).db_type(connection) for c in all_columns]
        return _upsert_by_arrays(table, column_sql, types, tail, rows, returned)

    written = 0
    batch_size = max(1, MAX_PARAMS_PER_STATEMENT // len(all_columns))
    row_sql = "(" + ", ".join(["%s"] * len(all_columns)) + ")"
    with connection.cursor() as cursor:
        for batch in _batched(rows, batch_size):
            values_sql = ", ".join([row_sql] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({column_sql}) VALUES {values_sql}{tail}",
                [v for row in batch for v in row],
            )
            if returned is not None:
                returned.extend(tuple(r) for r in cursor.fetchall())
            written += max(cursor.rowcount, 0)
    return written


def _upsert_by_copy(
    table: str,
    column_sql: str,
    upsert_tail: str,
    rows: Iterator[list],
    returned: list[tuple] | None = None,
) -> int:
    """PostgreSQL: COPY the rows (binary, encoded in C) into a temporary table, then upsert
    from it in one statement; several times faster than any INSERT carrying the values."""
    global _load_tables
    _load_tables += 1
    scratch = f"_gpb_load_{_load_tables}"
    # ON COMMIT DROP needs a transaction: this one, or the caller's (no savepoint needed: the
    # scratch table goes with whichever ends).
    with transaction.atomic(savepoint=False):
        connection.ensure_connection()
        # Django's cursors bind parameters client-side; COPY needs psycopg's own cursor.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
                f"SELECT {column_sql} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"SELECT * FROM {scratch} LIMIT 0")
            types = [column.type_code for column in cursor.description]
            with cursor.copy(f"COPY {scratch} ({column_sql}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({column_sql}) SELECT {column_sql} FROM {scratch}"
                f"{upsert_tail}"
            )
            written = max(cursor.rowcount, 0)
            if returned is not None:
                returned.extend(cursor.fetchall())
            cursor.execute(f"DROP TABLE {scratch}")
    return written


_load_tables = 0


def _upsert_by_arrays(
    table: str,
    column_sql: str,
    types: list[str],
    upsert_tail: str,
    rows: list[list],
    returned: list[tuple] | None = None,
) -> int:
    """PostgreSQL, few rows: one array per column through unnest(). The statement text is the
    same whatever the row count, so psycopg parses it once, and arrays travel in binary (%b)."""
    select = ", ".join(f"%b::{t}[]" for t in types)
    sql = f"INSERT INTO {table} ({column_sql}) SELECT * FROM unnest({select}){upsert_tail}"
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        if returned is not None:
            returned.extend(cursor.fetchall())
        return max(cursor.rowcount, 0)


def bulk_update_by_pk(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence]
) -> int:
    """Set ``columns`` of each row given as ``(pk, value, ...)``; one statement per batch.

    Django's bulk_update builds a CASE WHEN per column and row, which costs more to compile
    than to run; this sends the values as a table joined on the primary key.
    """
    rows = list(rows)
    if not rows:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = model._meta.pk.column
    names = [pk, *columns]
    set_sql = ", ".join(f"{qn(c)} = v.{qn(c)}" for c in columns)
    converters = _converters(model, names)
    prepared = [
        [
            convert(v) if convert and v is not None else v
            for v, convert in zip(row, converters, strict=True)
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [model._meta.get_field(c).db_type(connection) for c in names]
            select = ", ".join(f"%s::{t}[]" for t in types)
            alias = ", ".join(qn(c) for c in names)
            cursor.execute(
                f"UPDATE {table} SET {set_sql} FROM unnest({select}) AS v({alias}) "
                f"WHERE {table}.{qn(pk)} = v.{qn(pk)}",
                [list(column) for column in zip(*prepared, strict=True)],
            )
            return max(cursor.rowcount, 0)
        written = 0
        width = len(names)
        aliased = ", ".join(f"column{i + 1} AS {qn(c)}" for i, c in enumerate(names))
        row_sql = "(" + ", ".join(["%s"] * width) + ")"
        for batch in _batched(prepared, max(1, MAX_PARAMS_PER_STATEMENT // width)):
            cursor.execute(
                f"UPDATE {table} SET {set_sql} FROM (SELECT {aliased} FROM "
                f"(VALUES {', '.join([row_sql] * len(batch))})) AS v "
                f"WHERE {table}.{qn(pk)} = v.{qn(pk)}",
                [v for row in batch for v in row],
            )
            written += max(cursor.rowcount, 0)
        return written


def commits_wait_for_disk(wait: bool) -> None:
    """PostgreSQL: whether this thread's commits wait for the WAL to reach the disk.

    An import commits once per course and a passback once per few dozen results; waiting for
    every WAL flush costs more than the writes. Not waiting never corrupts anything: a crash of
    the database server may forget the last commits of under a second, which the next import
    re-reads, and the next passback re-sends (a PUT by sourcedId, so IC keeps one copy).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit TO {'DEFAULT' if wait else 'off'}")


def statistics_refresh(tables: Iterable[type[models.Model]]) -> None:
    """Have the database sample these tables again (ANALYZE), so that its planner knows their
    sizes after a bulk load. PostgreSQL's autovacuum does so only after a delay, and never where
    it is turned off; until then a lookup joined to a table it believes empty may be planned
    as a scan of the whole table (seen: 5.5 ms a call instead of 0.25 ms)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """Within the block, commits do not wait for the disk (commits_wait_for_disk)."""
    commits_wait_for_disk(False)
    try:
        yield
    finally:
        commits_wait_for_disk(True)


def _batched(items: Iterable[list], size: int) -> Iterator[list[list]]:
    batch: list[list] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def mark_deleted(queryset: models.QuerySet, seen: set[int]) -> int:
    """Flag as deleted every live row of ``queryset`` whose canvas_id was not seen in Canvas.

    ``seen`` must hold only rows just written live into ``queryset`` (the importer upserts what
    Canvas listed, then calls this). So when the live rows are no more than ``seen``, none is
    gone, and one count replaces reading back every id: most courses lose nothing.
    """
    live = queryset.filter(deleted=False)
    if live.count() <= len(seen):
        return 0
    gone = [pk for pk, cid in live.values_list("pk", "canvas_id") if cid not in seen]
    total = 0
    for start in range(0, len(gone), 500):
        # imported_at says when the importer last changed the row; a deletion is a change
        # (the nightly passback looks for changes by it).
        total += queryset.model.objects.filter(pk__in=gone[start : start + 500]).update(
            deleted=True, imported_at=timezone.now()
        )
    return total
