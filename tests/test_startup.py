"""Start-up of a new process (issue 9): what `lvzhi ask` imports, and `lvzhi serve` opening the dense part early."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.ingest import ingest_paths
from bot.storage import Database

ROOT = Path(__file__).resolve().parents[1]
NOT_ON_THE_WAY = ("langchain_core", "langchain_chroma", "alembic", "sklearn", "scipy", "telegram", "openpyxl")


@pytest.fixture
def dense_settings(tmp_path, make_settings):
    """Settings of an index of two articles with vectors of the default model (or its fallback), complete."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "第一条 委员可以通过掌上履职平台提交微建议。\n第二条 微建议篇幅不超过五百字。", encoding="utf-8"
    )
    settings = make_settings(dense_index=True, vectors_in_background=False)
    assert ingest_paths([docs], settings, progress=False).ok
    return settings


def test_warm_up_opens_the_dense_part_before_any_question(dense_settings) -> None:
    kb = KnowledgeBase.open(dense_settings)
    assert kb.weights.dense > 0 and kb.retriever.dense._store is None  # opening the index opened no vectors
    kb.warm_up_dense()
    store = kb.retriever.dense._store
    assert store is not None and store._has_vectors  # Chroma opened and read before the first question
    fresh = KnowledgeBase.open(
        dense_settings
    )  # the same answers as a knowledge base warmed by its first question
    assert [p.chunk_id for p in kb.search("微建议多少字", 2)] == [
        p.chunk_id for p in fresh.search("微建议多少字", 2)
    ]


def test_warm_up_without_a_dense_part_does_nothing(tmp_path, make_settings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("第一条 委员可以提交微建议。", encoding="utf-8")
    off = make_settings(dense_index=False)
    assert ingest_paths([docs], off, progress=False).ok
    kb = KnowledgeBase.open(off)
    kb.warm_up_dense()
    assert kb.retriever.dense is None


def test_ask_in_a_new_process_imports_what_it_uses_only(dense_settings, tmp_path) -> None:
    index = dense_settings.resolved_index_dir
    code = (
        "import sys; from bot.cli import main; "
        f"code = main(['ask', '--index', {str(index)!r}, '微建议篇幅有什么要求？']); "
        "print('MODULES', ' '.join(sorted(sys.modules)))"
    )
    Database(
        dense_settings.resolved_database_url
    ).migrate()  # an existing database, as at every start but the first
    env = dict(os.environ, LVZHI_DATA_DIR=str(dense_settings.data_dir))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answer, _, names = done.stdout.partition("MODULES ")
    loaded = set(names.split())
    assert "五百字" in answer
    assert "chromadb" in loaded  # the dense part was used...
    assert {m.split(".")[0] for m in loaded} & set(NOT_ON_THE_WAY) == set()  # ...and nothing it does not need


def test_a_chroma_server_that_is_not_up_does_not_stop_the_start(dense_settings, monkeypatch, caplog) -> None:
    from bot.settings import get_settings

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LVZHI_CHROMA_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    try:
        kb = KnowledgeBase.open(dense_settings)
        kb.warm_up_dense()  # logged, not raised
        assert "向量索引暂时无法打开" in caplog.text and kb.retriever.dense._store is None
        assert kb.search("微建议多少字", 1)  # the lexical part answers meanwhile
    finally:
        monkeypatch.delenv("LVZHI_CHROMA_URL")
        get_settings.cache_clear()
