"""The lexical index: BM25 ranking, persistence without re-analysis, updates, script-independent matching."""

from __future__ import annotations

import json

import pytest

import bot.knowledge.lexical as lexical_module
from bot.knowledge.lexical import LexicalIndex, current_version
from bot.knowledge.types import Chunk


def chunk(doc: str, n: int, text: str, section: str = "") -> Chunk:
    return Chunk(f"{doc}:{n:05d}:x", doc, f"{doc}标题", section, text, n)


CHUNKS = [
    chunk("a", 0, "委员可以通过掌上履职平台提交微建议，篇幅不超过五百字。"),
    chunk("a", 1, "社情民意信息每周编审一次，采用的信息编入刊物上报。"),
    chunk("b", 0, "對上協調要及時主動，對於什麼事情應該向哪位主席彙報請示。"),
    chunk("b", 1, "政协机关是政治机关，首要的就是提高政治站位。"),
]


@pytest.fixture
def index(tmp_path):
    idx = LexicalIndex(tmp_path / "lex")
    idx.add(CHUNKS)
    idx.save()
    return idx


def test_ranks_the_matching_chunk_first(index):
    assert index.search("微建议有多少字？", 2)[0][0] == "a:00000:x"
    assert index.search("社情民意信息多久编审", 1)[0][0] == "a:00001:x"
    assert index.search("量子计算机", 3) == []


def test_traditional_and_simplified_find_each_other(index):
    assert index.search("对上协调要注意什么", 1)[0][0] == "b:00000:x"  # Simplified question, Traditional text
    assert index.search("政協機關的屬性", 1)[0][0] == "b:00001:x"  # Traditional question, Simplified text


def test_reopen_gives_the_same_results_without_analysing_anything(index, tmp_path, monkeypatch):
    before = index.search("政治机关", 4)

    def forbidden(*args, **kwargs):
        raise AssertionError("a stored chunk was analysed again")

    monkeypatch.setattr(lexical_module, "analyze_chunk", forbidden)
    reopened = LexicalIndex.open(tmp_path / "lex")
    assert len(reopened) == 4
    assert reopened.search("政治机关", 4) == before
    reopened.save()  # nothing changed: nothing is written or analysed


def test_updates_persist(index, tmp_path):
    reopened = LexicalIndex.open(tmp_path / "lex")
    reopened.remove_docs({"a"})
    reopened.add([chunk("c", 0, "提案委员会自收到提案之日起十五个工作日内完成审查。")])
    reopened.save()
    again = LexicalIndex.open(tmp_path / "lex")
    assert sorted(c.doc_id for c in again.chunks.values()) == ["b", "b", "c"]
    assert again.search("微建议", 3) == []  # removed with its document
    assert again.search("提案审查要多久", 1)[0][0] == "c:00000:x"
    assert again.idf("微建议") == 0.0


def test_an_older_format_is_rebuilt_from_the_stored_chunks(index, tmp_path):
    meta_path = tmp_path / "lex" / current_version(tmp_path / "lex") / "vocab.json"  # the version in use
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = 0
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    reopened = LexicalIndex.open(tmp_path / "lex")
    assert reopened.search("微建议有多少字？", 1)[0][0] == "a:00000:x"


def test_present_terms_are_the_chunks_own_analysis_read_from_the_postings(index, tmp_path):
    from bot.knowledge.analysis import analyze_chunk, query_terms

    reopened = LexicalIndex.open(tmp_path / "lex")  # postings from disk, no analysis
    asked = query_terms("委员提交微建议要多少字？社情民意多久编审，向主席请示") | {
        "没有的词": 1.0,
        "§量子": 0.5,
    }
    for idx in (index, reopened):
        for c in CHUNKS:
            own = set(analyze_chunk(c.title, c.section, c.text))
            present = idx.present_terms(c.chunk_id, asked)
            assert present == own & set(asked)
        assert idx.present_terms("a:00009:x", asked) is None
    assert index.present_terms("a:00000:x", asked) >= {"微建议", "§建议"}
    assert "微建议" not in index.present_terms("a:00001:x", asked)
    added = chunk("c", 0, "量子通信试点由主席请示后开展。")
    index.add([added])  # postings rebuilt before reading them
    assert {"§量子", "主席"} <= index.present_terms(added.chunk_id, asked)
