"""Whether a database is already at the newest migration, read without importing Alembic.

Every start (`lvzhi serve`, `lvzhi ask`, each command that opens the database) migrates to "head"; when nothing is
due, Alembic's import and its reading of every migration script cost a new process about 0.2 s of CPU. The head is
found here from the scripts' own `revision = …` and `down_revision = …` lines (the revisions no other revision
revises) and compared with the rows of the database's `alembic_version` table. When they are equal there is nothing
to upgrade; in every other case (a revision due, an unreadable script, no version table) Alembic decides as before.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

VERSION_TABLE = "alembic_version"  # Alembic's default; env.py does not change it
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def _revisions(value: object) -> tuple[str, ...]:
    """A revision field as a tuple: None → (), "a" → ("a",), ("a", "b") → itself; ValueError otherwise."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"not a revision: {value!r}")


def script_heads(versions_dir: Path) -> frozenset[str] | None:
    """The head revisions of the migration scripts in versions_dir, or None when a script cannot be read this way
    (then Alembic must decide)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in sorted(Path(versions_dir).glob("*.py")):
        fields: dict[str, tuple[str, ...]] = {}
        for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            if name in fields:
                return None
            try:
                fields[name] = _revisions(ast.literal_eval(value))
            except (ValueError, SyntaxError):
                return None
        if len(fields.get("revision", ())) != 1 or "down_revision" not in fields:
            return None
        (revision,) = fields["revision"]
        if revision in revisions:
            return None
        revisions.add(revision)
        revised.update(fields["down_revision"])
    heads = frozenset(revisions - revised)
    return heads or None


def database_revisions(conn: Connection) -> frozenset[str] | None:
    """The revisions recorded in the database's version table, or None when it has none (or no such table)."""
    try:
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    except SQLAlchemyError:
        return None
    return frozenset(rows) or None


def at_head(conn: Connection, versions_dir: Path) -> bool:
    """True when the database's revisions are exactly the scripts' heads (nothing to upgrade)."""
    heads = script_heads(versions_dir)
    return heads is not None and database_revisions(conn) == heads
