"""Vectors made after ingest: ingest returns lexical-ready, `lvzhi vectors` completes them and resumes after a crash."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import until_sync

from bot.knowledge import background_vectors
from bot.knowledge.background_vectors import (
    LOG_FILE,
    PENDING,
    VectorBuilder,
    VectorLock,
    VectorsBusy,
    vector_status,
)
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.embedding_models import USE_MULTILINGUAL
from bot.knowledge.ingest import ingest_paths
from bot.knowledge.manifest import Manifest
from bot.knowledge.vectorstore import open_client

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition, timeout: float = 300.0, what: str = "condition"):
    """Poll until condition() is truthy (returns it) or fail after timeout seconds (waiting.until_sync)."""
    return until_sync(condition, what, timeout)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "提案须知.txt").write_text(
        "提案须知\n第一条 提案应当一事一案。\n第二条 大会提案在大会开幕后第二天下午六时前提交。\n",
        encoding="utf-8",
    )
    (docs / "积分说明.txt").write_text(
        "积分说明\n第一条 提交提案每件计2分，被立案的另加3分。\n第二条 委员可以随时查看积分明细。\n",
        encoding="utf-8",
    )
    return docs


def _stored_ids(settings) -> list[str]:
    [collection] = open_client(settings.resolved_index_dir).list_collections()
    return collection.get(include=[])["ids"]


def test_ingest_returns_lexical_ready_and_a_vectors_run_completes_them(make_settings, small_corpus) -> None:
    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3)
    report = ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    assert report.ok and report.chunk_total == 4
    assert open_client(settings.resolved_index_dir).list_collections() == []  # ingest made no vectors
    manifest = Manifest(settings.resolved_index_dir / "manifest.sqlite3")
    assert {e.embedding_model for e in manifest.entries()} == {PENDING}
    manifest.close()

    kb = KnowledgeBase.open(settings)
    kb.retriever.dense.recheck_s = 0.0
    assert kb.retriever.dense.search("提案", 4) == []  # incomplete: no dense part yet
    assert "六时" in kb.search("大会提案什么时候交？", 1)[0].text  # lexical search already answers

    builder = VectorBuilder(settings, progress=False)
    done = builder.run()
    assert (done.documents, done.chunks, done.complete) == (2, 4, True)
    assert sorted(_stored_ids(settings)) == sorted(kb.lexical.chunks)
    assert len(kb.retriever.dense.search("提案", 4)) == 4  # the same open knowledge base now uses them
    again = VectorBuilder(settings, progress=False).run()
    assert (again.documents, again.complete) == (0, True)  # nothing left to do


def test_a_second_writer_is_refused_while_the_lock_is_held(make_settings, small_corpus) -> None:
    settings = make_settings(embedding_model=USE_MULTILINGUAL)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    lock = VectorLock(settings.resolved_index_dir)
    assert lock.acquire(wait=False)
    try:
        with pytest.raises(VectorsBusy, match=rf"另一个进程（PID {os.getpid()}）正在生成这个知识库的向量"):
            VectorBuilder(settings, progress=False).run()
    finally:
        lock.release()
    assert VectorBuilder(settings, progress=False).run().complete


def test_a_document_changed_while_embedding_is_not_marked_complete(make_settings, small_corpus) -> None:
    settings = make_settings(embedding_model=USE_MULTILINGUAL)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    manifest = Manifest(settings.resolved_index_dir / "manifest.sqlite3")
    entry = manifest.entries()[0]
    assert not manifest.mark_embedded(entry.doc_id, "0" * 64, entry.pipeline, "model-x")  # an older version
    assert manifest.mark_embedded(entry.doc_id, entry.content_hash, entry.pipeline, "model-x")
    manifest.close()


def _ended(pid: int) -> bool:
    """The process is gone (or a zombie: it is no child of ours, so we cannot reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "LVZHI_EMBEDDING_MODEL": USE_MULTILINGUAL, **extra}


def test_vectors_resume_after_the_process_is_killed(make_settings, tmp_path: Path, seeds_dir: Path) -> None:
    corpus = tmp_path / "seeds"
    shutil.copytree(seeds_dir, corpus)
    settings = make_settings(embedding_model=USE_MULTILINGUAL)
    report = ingest_paths([corpus], settings, progress=False, defer_vectors=True)
    index = settings.resolved_index_dir
    identity = VectorBuilder(settings).identity
    assert vector_status(index, identity) == (0, 5)

    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "vectors", "--index", str(index), "--no-progress"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: vector_status(index, identity)[0] >= 1, what="the first document's vectors")
    finally:
        process.send_signal(signal.SIGKILL)  # a crash: no clean-up of any kind
        process.wait()
    done_before, total = vector_status(index, identity)
    assert 1 <= done_before < total, "the run finished before it could be interrupted"

    resumed = VectorBuilder(settings, progress=False).run()
    assert resumed.complete and resumed.documents == total - done_before  # finished ones are not redone
    ids = _stored_ids(settings)
    assert len(ids) == report.chunk_total and len(set(ids)) == len(ids)  # no partial document left twice


def test_lvzhi_ingest_returns_and_vectors_complete_in_the_background(tmp_path: Path, small_corpus) -> None:
    index = tmp_path / "index"
    env = _env(LVZHI_VECTORS_IN_BACKGROUND="true")
    done = subprocess.run(
        [sys.executable, str(REPO / "ingest.py"), str(small_corpus), "--index", str(index), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "新增 2 个文件" in done.stdout
    pid = int(re.search(r"向量在后台生成（进程 PID (\d+)，2 个文档待处理）", done.stdout).group(1))
    wait_for(lambda: _ended(pid), what="the background vectors process to end")
    status = subprocess.run(
        [sys.executable, "-m", "bot.cli", "vectors", "--status", "--index", str(index)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert status.returncode == 0 and "向量进度：2/2 个文档已完成" in status.stdout
    log = (index / LOG_FILE).read_text(encoding="utf-8")
    assert "向量已全部生成：2/2 个文档；本次生成 2 个文档、4 个片段" in log
    assert [c.count() for c in open_client(index).list_collections()] == [4]


@pytest.mark.parametrize("exact_max", [20_000, 0], ids=["in-memory exact search", "Chroma's HNSW query"])
def test_a_serving_process_searches_what_another_process_embedded_later(
    make_settings, small_corpus, exact_max: int, monkeypatch
) -> None:
    """The knowledge base of a running server must search vectors written afterwards by another process (`lvzhi
    vectors` after an upload): chromadb's shared system kept serving the collection as first read."""
    monkeypatch.setattr(background_vectors, "REOPEN_MIN_S", 0.0)  # however fast the other process is
    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3, exact_dense_max=exact_max)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    VectorBuilder(settings, progress=False).run()
    kb = KnowledgeBase.open(settings)
    dense = kb.retriever.dense
    assert dense.warm_up()  # as `lvzhi serve` does before it listens (the in-memory copy is read now)
    assert len(dense.search("提案", 10)) == 4  # opened and searched before the other process writes

    (small_corpus / "会议须知.txt").write_text(
        "会议须知\n第一条 全体会议每年举行一次。\n第二条 委员因故不能出席会议的，应当向秘书处请假。\n",
        encoding="utf-8",
    )
    index = settings.resolved_index_dir
    done = subprocess.run(  # another process: the lexical index, the manifest and the vectors of the new file
        [sys.executable, "ingest.py", str(small_corpus), "--index", str(index), "--no-progress"],
        env=_env(LVZHI_VECTORS_IN_BACKGROUND="false"), cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    hits = dense.search("委员不能出席会议怎么请假", 10)
    assert len(hits) == 6  # the four first chunks and the new document's two
    kb.reload_if_changed(force=True)
    added = {cid for cid, chunk in kb.lexical.chunks.items() if chunk.title == "会议须知"}
    assert len(added) == 2 and hits[0][0] in added  # and the new passage is the nearest one


def test_a_damaged_collection_leaves_the_lexical_answer(
    make_settings, small_corpus, caplog, monkeypatch
) -> None:
    """A Chroma folder that cannot be read (damaged, or half-replaced by a copy) must not fail the question: the store
    in use keeps answering, and without one the answer is lexical-only."""
    from bot.knowledge import vector_generation

    monkeypatch.setattr(background_vectors, "REOPEN_MIN_S", 0.0)
    monkeypatch.setattr(background_vectors, "RETRY_S", 0.0)  # retry at the next search
    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    VectorBuilder(settings, progress=False).run()
    index = settings.resolved_index_dir
    database = index / "chroma" / "chroma.sqlite3"
    saved = database.read_bytes()
    running = KnowledgeBase.open(settings)
    assert running.retriever.dense.warm_up()  # a server: the vectors are held in memory
    assert len(running.retriever.dense.search("提案", 4)) == 4
    database.write_bytes(b"not a database" * 1000)
    vector_generation.bump(index)  # as a writer would: the running server tries to reopen the collection
    try:
        assert len(running.retriever.dense.search("提案", 4)) == 4  # the store in use still answers
        fresh = KnowledgeBase.open(settings)  # a server started now has no store to fall back on
        assert fresh.retriever.dense.search("提案", 4) == []
        assert "六时" in fresh.search("大会提案什么时候交？", 1)[0].text  # the lexical answer stands
        assert caplog.text.count("向量检索失败") >= 2  # each failure is logged
    finally:
        database.write_bytes(saved)
    vector_generation.bump(index)
    assert len(fresh.retriever.dense.search("提案", 4)) == 4  # repaired: searched again


def test_the_last_complete_vectors_serve_while_an_upload_is_embedded(
    make_settings, small_corpus, monkeypatch
):
    """After an upload the new document's vectors are made in the background: meanwhile the vectors of the others
    keep their say (they used to stop for the whole run), and the new ones join when complete."""
    monkeypatch.setattr(background_vectors, "REOPEN_MIN_S", 0.0)
    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    VectorBuilder(settings, progress=False).run()
    dense = KnowledgeBase.open(settings).retriever.dense
    assert len(dense.search("提案", 10)) == 4
    (small_corpus / "会议须知.txt").write_text(
        "会议须知\n第一条 全体会议每年举行一次。\n第二条 委员因故不能出席会议的，应当向秘书处请假。\n",
        encoding="utf-8",
    )
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)  # pending: the stamp moves
    assert len(dense.search("提案", 10)) == 4  # the last complete collection still answers
    VectorBuilder(settings, progress=False).run()
    assert len(dense.search("提案", 10)) == 6  # complete again: the new document's vectors are searched


def test_a_burst_of_changes_reopens_the_collection_once(make_settings, small_corpus, monkeypatch) -> None:
    """Each opening is a new chromadb system (memory not all given back): a writer's burst of changes within
    REOPEN_MIN_S is read at once, later, not one opening per change."""
    from bot.knowledge import vector_generation

    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    VectorBuilder(settings, progress=False).run()
    dense = KnowledgeBase.open(settings).retriever.dense
    monkeypatch.setattr(background_vectors, "REOPEN_MIN_S", 3600.0)
    dense.search("提案", 4)
    first = dense.store
    for _ in range(3):
        vector_generation.bump(settings.resolved_index_dir)
        assert len(dense.search("提案", 4)) == 4 and dense.store is first
    monkeypatch.setattr(background_vectors, "REOPEN_MIN_S", 0.0)  # the interval is over
    assert len(dense.search("提案", 4)) == 4 and dense.store is not first


def test_a_reopened_knowledge_base_of_a_server_holds_its_vectors_in_memory(
    make_settings, small_corpus
) -> None:
    """After an upload the server reopens its knowledge base (LiveKnowledge.reload): the new one reads its vectors
    before the swap, as the first did at start, rather than leaving the first questions to Chroma."""
    from bot.knowledge.live import LiveKnowledge

    settings = make_settings(embedding_model=USE_MULTILINGUAL, dense_weight=0.3)
    ingest_paths([small_corpus], settings, progress=False, defer_vectors=True)
    VectorBuilder(settings, progress=False).run()
    live = LiveKnowledge(lambda embeddings: KnowledgeBase.open(settings, embeddings=embeddings))
    live.warm_up_dense()  # what `lvzhi serve` does before it listens
    fresh = live.reload()
    assert fresh.retriever.dense.serving and fresh.retriever.dense.store._exact is not None
    cold = LiveKnowledge(lambda embeddings: KnowledgeBase.open(settings, embeddings=embeddings)).reload()
    assert not cold.retriever.dense.serving  # a one-shot process does not read them
