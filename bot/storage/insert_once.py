"""Insert a row unless a row with the same unique key exists: one statement, no savepoint, no exception.

`INSERT … ON CONFLICT DO NOTHING RETURNING` (SQLite ≥ 3.35 and PostgreSQL both have it). Concurrent inserts of
the same key: one inserts, the others wait for its transaction and then insert nothing (or insert, if it rolled back) — the
same outcome as a savepoint around an ORM insert that catches IntegrityError, at a third of the statements.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_once(session: Session, model: type, **values: Any) -> bool:
    """Insert one row of `model` (an ORM class) with `values` in the session's transaction; True if it was
    inserted, False if a row with the same primary or unique key already exists (nothing is written then).

    Column defaults of the model (e.g. a created_at default) apply as for an ORM insert. Raises ValueError for a
    database other than SQLite or PostgreSQL."""
    stmt = _statement(session.get_bind().dialect.name, model, tuple(sorted(values)))
    # Core execution on the session's connection: the ORM's bulk-insert layer adds nothing for one plain row
    return (
        session.connection().execute(stmt, values).first() is not None
    )  # RETURNING: psycopg gives no rowcount


@lru_cache(maxsize=64)
def _statement(dialect: str, model: type, columns: tuple[str, ...]):
    """The statement for these columns, built once (building it costs more CPU than running it)."""
    make = _INSERTS.get(dialect)
    if make is None:
        raise ValueError(f"insert_once: unsupported database {dialect}")
    stmt = make(model).values({c: bindparam(c) for c in columns}).on_conflict_do_nothing()
    return stmt.returning(*model.__table__.primary_key.columns)
