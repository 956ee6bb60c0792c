"""Incremental ingestion into a real Chroma collection and lexical index, with the real bundled model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from bot.knowledge.embeddings import SentenceTransformerEmbeddings
from bot.knowledge.ingest import ingest_paths
from bot.knowledge.lexical import LexicalIndex
from bot.knowledge.loaders import LOADERS
from bot.knowledge.manifest import Manifest
from bot.knowledge.vectorstore import COLLECTION_PREFIX, VectorStore, collection_name, open_client

REPO = Path(__file__).resolve().parents[1]


class CountingEmbeddings(SentenceTransformerEmbeddings):
    """The real embeddings, counting how many texts they embed."""

    def __init__(self, model_path: str, max_tokens: int | None = None) -> None:
        super().__init__(model_path, max_tokens=max_tokens)
        self.documents_embedded = 0
        self.queries_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents_embedded += len(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries_embedded += 1
        return super().embed_query(text)


@pytest.fixture
def counting(embeddings) -> CountingEmbeddings:
    """Fresh counters over the session's already loaded model."""
    return CountingEmbeddings(embeddings.model_path, embeddings.max_tokens)


@pytest.fixture
def seed_corpus(tmp_path: Path, seeds_dir: Path) -> Path:
    """A temporary copy of all seed documents (outside the repository)."""
    target = tmp_path / "src" / "corpus"
    shutil.copytree(seeds_dir, target)
    return target


@pytest.fixture
def corpus(tmp_path: Path, seeds_dir: Path) -> Path:
    """One seed document plus two short ones: enough for the incremental cases and quick to embed."""
    target = tmp_path / "src" / "corpus"
    target.mkdir(parents=True)
    seed = next(seeds_dir.glob("002_*.txt"))
    shutil.copy2(seed, target / seed.name)
    (target / "提案须知.txt").write_bytes(
        "提案须知\n第一条 提案应当一事一案。\n第二条 大会提案在大会开幕后第二天下午六时前提交。\n".encode(
            "gb18030"
        )
    )
    (target / "积分说明.md").write_text(
        "# 积分说明\n\n## 一、计分\n\n提交提案每件计2分，被立案的另加3分。\n\n## 二、查询\n\n委员可以随时查看积分明细。\n",
        encoding="utf-8",
    )
    return target


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory, bundled_model_path) -> Path:
    """The bundled model under another path (files symlinked), so its identity differs."""
    target = tmp_path_factory.mktemp("models") / "renamed-minilm"
    source = Path(bundled_model_path)
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(path)
    return target


def _chunk_ids(index_dir: Path) -> dict[str, str]:
    return {cid: c.doc_id for cid, c in LexicalIndex.open(index_dir / "lexical").chunks.items()}


def _vector_ids(index_dir: Path, embeddings) -> set[str]:
    return set(VectorStore(index_dir, embeddings)._collection.get(include=[])["ids"])


@pytest.mark.slow
def test_cold_ingest_then_second_run_changes_nothing(make_settings, seed_corpus: Path, counting) -> None:
    corpus = seed_corpus
    settings = make_settings()
    report = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    assert sorted(report.added) == sorted(f"corpus/{p.name}" for p in corpus.iterdir())
    assert not report.skipped and not report.updated
    assert report.chunk_total == report.chunks_written == counting.documents_embedded > 20
    ids = _chunk_ids(settings.resolved_index_dir)
    assert len(ids) == report.chunk_total
    assert _vector_ids(settings.resolved_index_dir, counting) == set(ids)
    assert "导入完成：新增 5 个文件" in report.summary_zh()

    os.utime(next(corpus.iterdir()))  # touched but unchanged: the hash decides
    again = CountingEmbeddings(counting.model_path, counting.max_tokens)
    second = ingest_paths([corpus], settings, progress=False, embeddings=again)
    assert (second.added, second.updated, second.removed, second.skipped) == ([], [], [], [])
    assert sorted(second.unchanged) == sorted(report.added)
    assert again.documents_embedded == 0 and second.chunks_written == 0
    assert _chunk_ids(settings.resolved_index_dir) == ids  # stable chunk ids
    assert _vector_ids(settings.resolved_index_dir, again) == set(ids)


def test_changed_file_replaces_its_old_chunks(make_settings, corpus: Path, counting) -> None:
    settings = make_settings()
    ingest_paths([corpus], settings, progress=False, embeddings=counting)
    before = _chunk_ids(settings.resolved_index_dir)
    target = corpus / "积分说明.md"
    doc_id = f"corpus/{target.name}"
    old_ids = {cid for cid, d in before.items() if d == doc_id}
    target.write_text("委员服务工作要点\n第一条 委员提交提案后可以在平台查询办理进度。\n", encoding="utf-8")

    report = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    assert report.updated == [doc_id] and len(report.unchanged) == 2
    after = _chunk_ids(settings.resolved_index_dir)
    new_ids = {cid for cid, d in after.items() if d == doc_id}
    assert new_ids and not (new_ids & old_ids)
    assert {c: d for c, d in after.items() if d != doc_id} == {c: d for c, d in before.items() if d != doc_id}
    assert _vector_ids(settings.resolved_index_dir, counting) == set(after)
    lexical = LexicalIndex.open(settings.resolved_index_dir / "lexical")
    assert any("查询办理进度" in lexical.get(cid).text for cid in new_ids)


def test_prune_removes_only_missing_files_under_given_roots(make_settings, corpus: Path, counting) -> None:
    settings = make_settings()
    other = corpus.parent / "other"
    other.mkdir()
    (other / "通知.txt").write_text("会议通知\n请各位委员准时参加全体会议。\n", encoding="utf-8")
    ingest_paths([corpus, other], settings, progress=False, embeddings=counting)
    gone = corpus / "提案须知.txt"
    gone.unlink()
    (other / "通知.txt").unlink()

    kept = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    assert kept.removed == [] and f"corpus/{gone.name}" in _chunk_ids(settings.resolved_index_dir).values()

    pruned = ingest_paths([corpus], settings, progress=False, prune=True, embeddings=counting)
    assert pruned.removed == [f"corpus/{gone.name}"]
    doc_ids = set(_chunk_ids(settings.resolved_index_dir).values())
    assert f"corpus/{gone.name}" not in doc_ids
    assert "other/通知.txt" in doc_ids  # its file is gone too, but it is not under the given root
    assert _vector_ids(settings.resolved_index_dir, counting) == set(_chunk_ids(settings.resolved_index_dir))
    assert "移除 1 个" in pruned.summary_zh()


def test_doc_ids_are_stable_when_the_folder_moves(
    make_settings, corpus: Path, tmp_path: Path, counting
) -> None:
    settings = make_settings()
    first = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    moved = tmp_path / "elsewhere" / "corpus"
    moved.parent.mkdir()
    corpus.rename(moved)
    counting.documents_embedded = 0
    report = ingest_paths([moved], settings, progress=False, prune=True, embeddings=counting)
    assert sorted(report.unchanged) == sorted(first.added)
    assert report.removed == [] and counting.documents_embedded == 0


def test_model_change_reembeds_into_a_new_collection(
    make_settings, corpus: Path, counting, other_model_dir: Path
) -> None:
    settings = make_settings()
    first = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    index_dir = settings.resolved_index_dir
    old_names = [c.name for c in open_client(index_dir).list_collections()]
    assert len(old_names) == 1 and old_names[0].startswith(COLLECTION_PREFIX)

    changed = make_settings(embedding_model=str(other_model_dir))
    new_embeddings = CountingEmbeddings(changed.embedding_model_path(), changed.embedding_max_tokens)
    report = ingest_paths([corpus], changed, progress=False, embeddings=new_embeddings)
    assert sorted(report.reembedded) == sorted(first.added)
    assert sorted(report.unchanged) == sorted(first.added)  # re-embedded, not re-loaded or re-chunked
    assert new_embeddings.documents_embedded == first.chunk_total

    collections = open_client(index_dir).list_collections()
    assert [c.name for c in collections] != old_names and len(
        collections
    ) == 1  # the old model's vectors are gone
    identity = collections[0].metadata["embedding_model"]
    assert identity == new_embeddings.identity and identity.startswith(
        Path(other_model_dir).resolve().as_posix()
    )
    assert collections[0].count() == first.chunk_total  # nothing mixed in from the old collection
    store = VectorStore(index_dir, new_embeddings)
    assert store.collection_name == collections[0].name
    entries = Manifest(index_dir / "manifest.sqlite3").entries()
    assert {e.embedding_model for e in entries} == {store.identity}


def test_input_truncation_is_part_of_the_model_identity(bundled_model_path: str) -> None:
    full = SentenceTransformerEmbeddings(bundled_model_path)
    short = SentenceTransformerEmbeddings(bundled_model_path, max_tokens=128)
    assert full.identity == Path(bundled_model_path).resolve().as_posix()
    assert short.identity != full.identity
    assert collection_name(short.identity) != collection_name(full.identity)


def _broken_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "好文件.txt").write_bytes("履职积分规则\n第一条 提交提案每件计2分。\n".encode("gb18030"))
    document = docx.Document()
    document.add_heading("委员服务指南", level=1)
    document.add_paragraph("第一条 委员可以随时查询履职档案。")
    document.save(root / "指南.docx")
    (root / "空文件.txt").write_bytes(b"")
    (root / "图片.txt").write_bytes(bytes(range(256)) * 100)
    with (root / "超大.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (root / "表格.xyz").write_text("内容", encoding="utf-8")
    (root / "损坏.docx").write_bytes(b"PK\x03\x04 broken")
    return root


def test_broken_inputs_are_reported_and_the_rest_goes_in(make_settings, tmp_path: Path, counting) -> None:
    folder = _broken_folder(tmp_path / "src" / "mixed")
    report = ingest_paths([folder, tmp_path / "不存在"], make_settings(), progress=False, embeddings=counting)
    assert sorted(report.added) == ["mixed/好文件.txt", "mixed/指南.docx"]
    reasons = {Path(file).name: reason for file, reason in report.skipped}
    assert reasons == {
        "空文件.txt": "文件是空的",
        "图片.txt": "文件内容不是文本（含有二进制数据），可能扩展名有误",
        "超大.txt": "文件过大（50.0 MB，上限 20 MB）",
        "表格.xyz": f"不支持的文件类型「.xyz」（支持 {' '.join(LOADERS)}）",
        "损坏.docx": "无法打开 Word 文件，文件可能已损坏或不是真正的 .docx",
        "不存在": "路径不存在",
    }
    summary = report.summary_zh()
    assert "跳过 6 个" in summary and "超大.txt：文件过大" in summary
    assert report.ok


def test_opening_an_existing_index_embeds_nothing(make_settings, corpus: Path, counting) -> None:
    settings = make_settings()
    report = ingest_paths([corpus], settings, progress=False, embeddings=counting)
    unloadable = SentenceTransformerEmbeddings("/nonexistent/model")  # would fail if it were ever loaded
    store = VectorStore(settings.resolved_index_dir, unloadable, identity=counting.identity)
    assert store.count() == report.chunk_total

    fresh = CountingEmbeddings(counting.model_path, counting.max_tokens)
    store = VectorStore(settings.resolved_index_dir, fresh)
    lexical = LexicalIndex.open(settings.resolved_index_dir / "lexical")
    some = next(iter(lexical.chunks.values()))
    hits = store.search(some.index_text(), k=3)
    assert hits[0][0] == some.chunk_id and hits[0][1] == pytest.approx(1.0, abs=1e-3)
    assert all(a[1] >= b[1] for a, b in zip(hits, hits[1:], strict=False))
    assert (fresh.documents_embedded, fresh.queries_embedded) == (0, 1)


def _run_ingest_py(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(REPO / "ingest.py"), *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
def test_ingest_py_end_to_end(tmp_path: Path) -> None:
    folder = _broken_folder(tmp_path / "mixed")
    index = tmp_path / "index"
    done = _run_ingest_py(str(folder), "--index", str(index), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "新增 2 个文件" in done.stdout and "损坏.docx：无法打开 Word 文件" in done.stdout
    assert "Traceback" not in done.stderr and "Loading weights" not in done.stderr
    assert (index / "manifest.sqlite3").exists() and (index / "chroma").is_dir()

    nothing = _run_ingest_py(
        str(folder / "空文件.txt"), str(tmp_path / "nope"), "--index", str(tmp_path / "i2")
    )
    assert nothing.returncode == 1
    assert "空文件.txt：文件是空的" in nothing.stdout and "没有任何文件导入成功" in nothing.stdout
    assert "Traceback" not in nothing.stderr


def test_lvzhi_ingest_subcommand(tmp_path: Path, corpus: Path, embeddings, capsys) -> None:
    import argparse

    from bot.cli import COMMAND_MODULES
    from bot.knowledge import cli

    assert "bot.knowledge.cli" in COMMAND_MODULES
    parser = argparse.ArgumentParser(prog="lvzhi")
    cli.register(parser.add_subparsers(dest="command", required=True))
    index = tmp_path / "kb"
    args = parser.parse_args(["ingest", str(corpus), "--index", str(index), "--no-progress", "--prune"])
    assert args.func(args) == 0
    assert "新增 3 个文件" in capsys.readouterr().out
    assert len(LexicalIndex.open(index / "lexical")) > 0
