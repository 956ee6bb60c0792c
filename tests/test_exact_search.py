"""The in-memory exact dense search gives what Chroma's query gives, and follows the collection's changes."""

from __future__ import annotations

import pytest

from bot.knowledge.embedding_models import USE_MULTILINGUAL, embeddings_for
from bot.knowledge.exact_search import ExactCosine
from bot.knowledge.ingest import ingest_paths
from bot.knowledge.types import Chunk
from bot.knowledge.vector_generation import stamp
from bot.knowledge.vectorstore import VectorStore

QUESTIONS = ["提案怎么提交", "委员履职的要求有哪些", "社情民意信息怎么报送", "政协的协商形式", "你好"]


@pytest.fixture(scope="module")
def seeds_index(tmp_path_factory, seeds_dir):
    """The five seed speeches with real use-multilingual vectors (settings, embeddings)."""
    from bot.settings import Settings

    root = tmp_path_factory.mktemp("exact")
    settings = Settings(
        _env_file=None, data_dir=root / "data", index_dir=root / "index", embedding_model=USE_MULTILINGUAL
    )
    ingest_paths([seeds_dir], settings, progress=False)
    return settings, embeddings_for(settings)


def test_exact_search_ranks_as_chromas_query(seeds_index) -> None:
    settings, embeddings = seeds_index
    exact = VectorStore(settings.resolved_index_dir, embeddings, exact_max=20_000)
    exact.warm_up()  # as a server does: the copy is read at once
    chroma = VectorStore(settings.resolved_index_dir, embeddings, exact_max=0)
    assert exact.count() > 100
    for question in QUESTIONS:
        mine, theirs = exact.search(question, 10), chroma.search(question, 10)
        # HNSW is approximate (its graph differs from build to build), the exact search is not: at every rank it
        # is at least as similar, the two agree on the similarity of every passage both return, and on most ids
        assert all(m[1] >= t[1] - 1e-5 for m, t in zip(mine, theirs, strict=True)), question
        shared = dict(mine).keys() & dict(theirs).keys()
        assert len(shared) >= 8, question
        assert all(abs(dict(mine)[cid] - dict(theirs)[cid]) < 1e-5 for cid in shared), question
        assert mine[0][0] == theirs[0][0] or mine[0][1] > theirs[0][1] + 1e-6, question
    assert exact._exact is not None and chroma._exact is None  # each took the path it was given


def test_a_one_shot_process_does_not_read_the_copy_for_its_first_questions(seeds_index) -> None:
    """Reading every vector costs ~45 µs each (0.9 s for 20,000): `lvzhi ask` answers its one question through
    Chroma; a process that keeps asking reads the copy after EXACT_AFTER searches."""
    from bot.knowledge.vectorstore import EXACT_AFTER

    settings, embeddings = seeds_index
    store = VectorStore(settings.resolved_index_dir, embeddings, exact_max=20_000)
    for n in range(EXACT_AFTER):
        assert store.search(QUESTIONS[n % len(QUESTIONS)], 5) and store._exact is None
    assert store.search(QUESTIONS[0], 5) and store._exact is not None


def test_a_collection_above_the_limit_is_searched_by_chroma(seeds_index) -> None:
    settings, embeddings = seeds_index
    store = VectorStore(settings.resolved_index_dir, embeddings, exact_max=10)
    store.warm_up()
    assert store.search(QUESTIONS[0], 5) and store._exact is None


def test_a_write_replaces_the_in_memory_copy_and_waits_for_the_commit_to_tell_others(seeds_index) -> None:
    settings, embeddings = seeds_index
    index = settings.resolved_index_dir
    store = VectorStore(index, embeddings, exact_max=20_000)
    store.warm_up()
    question = "茶馆里的评书艺人怎么收费"
    before, stamp_before = store.search(question, 1), stamp(index)
    extra = Chunk("extra-1", "extra", "茶馆规约", "", 0, "茶馆里的评书艺人每场收费二十元，听众自愿打赏。")
    store.add([extra])
    try:
        # other processes are told when the writer's manifest is committed (an ingest's end), not mid-way
        assert stamp(index) == stamp_before
        # the copy was read at warm_up: after the write it is read again, not left to Chroma's approximate index
        assert store.search(question, 1)[0][0] == "extra-1" != before[0][0] and store._exact is not None
    finally:
        store.remove_docs({"extra"})
    assert "extra-1" not in {cid for cid, _ in store.search(question, 10)}


def test_exact_cosine_orders_by_similarity_and_keeps_ties_in_row_order() -> None:
    index = ExactCosine(["a", "b", "c", "d"], [[1, 0], [0, 2], [3, 0], [0, 0]])
    assert index.search([2, 0], 3) == [("a", 1.0), ("c", 1.0), ("b", 0.0)]
    assert index.search([0, 1], 10)[0] == ("b", 1.0) and len(index.search([0, 1], 10)) == 4
    assert index.search([1, 1], 0) == [] and ExactCosine([], []).search([1, 0], 3) == []
