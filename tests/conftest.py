"""Shared test fixtures (session-scoped where loading is expensive)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests build indexes with their vectors in the foreground; tests/test_background_vectors.py covers the background.
os.environ.setdefault("LVZHI_VECTORS_IN_BACKGROUND", "false")

SHARED_DIR = Path(os.environ.get("LVZHI_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
SEEDS_DIR = SHARED_DIR / "corpus" / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shared seed documents (read them from there; never copy them into the repo)."""
    assert SEEDS_DIR.is_dir(), f"seed documents not found at {SEEDS_DIR} (set LVZHI_SHARED_DIR)"
    return SEEDS_DIR


@pytest.fixture(scope="session")
def bundled_model_path() -> str:
    """Path of the bundled embedding model (offline)."""
    from bot.settings import Settings

    return Settings(_env_file=None).embedding_model_path()


@pytest.fixture(scope="session")
def embeddings(bundled_model_path):
    """The real bundled embedding model as the default settings configure it, loaded once per test session."""
    from bot.knowledge.embeddings import SentenceTransformerEmbeddings
    from bot.settings import Settings

    emb = SentenceTransformerEmbeddings.from_settings(Settings(_env_file=None))
    emb.embed_query("预热")  # load the model once, here
    return emb


@pytest.fixture
def make_settings(tmp_path):
    """Build Settings isolated from the environment and .env, with data and index under tmp_path."""
    from bot.settings import Settings

    def _make(**overrides):
        values = {"data_dir": tmp_path / "data", "index_dir": tmp_path / "index"}
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return _make


# Member bot (issue 3): SQLite/PostgreSQL database fixtures (db_url, database, pg_base_url).
from bot_fixtures import bot_services, harness, kb_settings, real_answerer  # noqa: E402, F401
from kb_fixtures import sample_answerer, sample_settings, seeds_answerer, seeds_settings  # noqa: E402, F401
from questions_fixtures import desk  # noqa: E402, F401
from storage_fixtures import database, db_url, pg_base_url  # noqa: E402, F401
from web_fixtures import browser  # noqa: E402, F401
