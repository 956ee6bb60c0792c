"""The dense index is a setting: off means lexical only; switching it on later embeds every document."""

from __future__ import annotations

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.ingest import ingest_paths
from bot.knowledge.vectorstore import open_client


def test_dense_index_off_then_on(tmp_path, make_settings, embeddings):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "第一条 委员可以通过掌上履职平台提交微建议。\n第二条 微建议篇幅不超过五百字。", encoding="utf-8"
    )
    off = make_settings(dense_index=False)
    report = ingest_paths([docs], off, progress=False, embeddings=embeddings)
    assert report.ok and report.chunk_total == 2
    assert open_client(off.resolved_index_dir).list_collections() == []  # no vectors were made
    kb = KnowledgeBase.open(off)
    assert "五百字" in kb.search("微建议多少字", 1)[0].text  # lexical search works without vectors

    on = make_settings(dense_index=True, dense_weight=0.5, embedding_model="bundled")  # the model given above
    report = ingest_paths([docs], on, progress=False, embeddings=embeddings)
    assert report.reembedded and report.chunk_total == 2
    [collection] = open_client(on.resolved_index_dir).list_collections()
    assert collection.count() == 2
    hits = KnowledgeBase.open(on).retriever.dense.search("微建议", 2)
    assert len(hits) == 2 and all(-1.0 <= score <= 1.0 for _, score in hits)
