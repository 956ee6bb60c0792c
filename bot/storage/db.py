"""The Database handle: engine, sessions, SQLite WAL and programmatic Alembic migrations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.migration_heads import at_head

if TYPE_CHECKING:  # Alembic is imported only when a migration is due (migration_heads)
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite files get WAL mode and their folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _quiet_alembic() -> None:
    """No migration chatter at start (set before Alembic is imported: its import logs its plugins at INFO)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)


def alembic_config(engine: Engine | None = None) -> Config:
    """The Alembic configuration pointing at the packaged migrations."""
    _quiet_alembic()
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


class Database:
    """One database: engine plus a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """The backend name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to the revision (Alembic `upgrade`; not even imported when the database is already at
        the scripts' head and `revision` is "head": see migration_heads)."""
        if revision == "head":
            with self.engine.connect() as conn:
                if at_head(conn, MIGRATIONS_DIR / "versions"):
                    return
        _quiet_alembic()
        from alembic import command

        cfg = alembic_config(self.engine)
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # replicas starting together: one migrates, the others wait
                conn.execute(text("SELECT pg_advisory_xact_lock(7070707)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        """Alembic `downgrade` to the revision (used by the migration stairway test)."""
        _quiet_alembic()
        from alembic import command

        cfg = alembic_config(self.engine)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as s:
            yield s

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
