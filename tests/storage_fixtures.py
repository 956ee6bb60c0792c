"""Database fixtures for the member-bot tests: SQLite in tmp_path and a real PostgreSQL (never skipped in CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_local_postgres():
    """Start a throwaway PostgreSQL like scripts/test.sh does; (url, stop) or None if not installed."""
    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdbs:
        return None
    pg_bin = initdbs[-1].parent
    data = Path(tempfile.mkdtemp(prefix="lvzhi-pg3-"))
    run = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run([*run, str(pg_bin / "initdb"), "-D", str(data), "-U", "lvzhi", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    log = data / "server.log"
    subprocess.run([*run, str(pg_bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def stop() -> None:
        subprocess.run(
            [*run, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql+psycopg://lvzhi@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def pg_base_url():
    """A PostgreSQL database of its own for this test session (fails, never skips, in CI)."""
    url = os.environ.get("LVZHI_TEST_POSTGRES_URL")
    stop = None
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LVZHI_TEST_POSTGRES_URL must be set in CI (.ci/run starts PostgreSQL)")
        started = _start_local_postgres()
        if started is None:
            pytest.fail(
                "PostgreSQL is not installed here; run scripts/test.sh or set LVZHI_TEST_POSTGRES_URL"
            )
        url, stop = started
    name = f"lvzhi_bot_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
        if stop:
            stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """The URL of an empty database: SQLite file in tmp_path, or the session's PostgreSQL with a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lvzhi.db'}"
    url = request.getfixturevalue("pg_base_url")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def database(db_url):
    """A migrated Database on SQLite or PostgreSQL."""
    from bot.storage import Database

    db = Database(db_url)
    db.migrate()
    yield db
    db.dispose()
