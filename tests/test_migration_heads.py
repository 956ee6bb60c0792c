"""Start-up skips Alembic when the database is at the scripts' head; the head is the one Alembic computes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.db import MIGRATIONS_DIR, alembic_config
from bot.storage.migration_heads import at_head, script_heads

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = MIGRATIONS_DIR / "versions"


def _script(directory: Path, revision: str, down: str) -> None:
    (directory / f"{revision}.py").write_text(
        f'"""Revision ID: {revision}\nRevises: {down}\n"""\n\nfrom typing import Union\n\n'
        f'revision: str = "{revision}"\ndown_revision: Union[str, tuple, None] = {down}\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def test_the_packaged_head_is_alembics() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert script_heads(VERSIONS) == frozenset(heads) and len(heads) == 1


def test_branches_and_merges(tmp_path: Path) -> None:
    _script(tmp_path, "a", "None")
    _script(tmp_path, "b", '"a"')
    _script(tmp_path, "c", '"a"')
    assert script_heads(tmp_path) == {"b", "c"}  # two branches: two heads
    _script(tmp_path, "m", '("b", "c")')
    assert script_heads(tmp_path) == {"m"}


def test_unreadable_scripts_leave_it_to_alembic(tmp_path: Path) -> None:
    _script(tmp_path, "a", "None")
    (tmp_path / "b.py").write_text('revision = make_id()\ndown_revision = "a"\n', encoding="utf-8")
    assert script_heads(tmp_path) is None
    (tmp_path / "b.py").write_text('revision = "b"\n', encoding="utf-8")  # no down_revision
    assert script_heads(tmp_path) is None
    assert script_heads(tmp_path / "empty") is None


def test_at_head_follows_the_version_table(database) -> None:
    with database.engine.connect() as conn:
        assert at_head(conn, VERSIONS)
    database.downgrade("-1")
    with database.engine.connect() as conn:
        assert not at_head(conn, VERSIONS)
    database.migrate()  # the due revision is applied (by Alembic)
    with database.engine.connect() as conn:
        assert at_head(conn, VERSIONS)
        conn.execute(text("DROP TABLE alembic_version"))
        assert not at_head(conn, VERSIONS)


def test_a_migrated_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lvzhi.db'}"
    code = (
        "import logging, sys; from bot.storage import Database; logging.basicConfig(level=logging.INFO); "
        f"Database({url!r}).migrate(); print('alembic' in sys.modules)"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        # no migration chatter, even with INFO logging (as `lvzhi` sets it)
        assert "alembic" not in done.stderr
        return done.stdout.strip()

    assert run() == "True"  # a new database: Alembic creates the schema
    assert run() == "False"  # at head: Alembic not even imported
