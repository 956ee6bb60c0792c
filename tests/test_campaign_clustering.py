"""Theme clustering of Chinese campaign answers: themes recovered, representatives, labels, determinism."""

from __future__ import annotations

from collections import Counter
from math import comb

import numpy as np
import pytest

from bot.campaigns.clustering import cluster_answers
from bot.campaigns.sample_answers import generate
from bot.textnorm import to_traditional

KEYWORDS = {
    "交通拥堵与停车": {"停车", "车位", "堵车", "拥堵", "公交", "红绿灯"},
    "养老服务": {"养老", "老年", "老人", "护理员"},
    "教育减负": {"作业", "课后", "校外", "学生", "培训"},
    "营商环境": {"企业", "审批", "融资", "涉企"},
    "看病就医": {"挂号", "就医", "医生", "医保", "诊疗", "异地"},
    "垃圾分类与环境": {"垃圾", "分类", "河道", "投放"},
}


def adjusted_rand(a: list, b: list) -> float:
    """Adjusted Rand index of two labelings."""
    ia, ib = np.unique(a, return_inverse=True)[1], np.unique(b, return_inverse=True)[1]
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=int)
    np.add.at(table, (ia, ib), 1)
    pairs = sum(comb(int(x), 2) for x in table.ravel())
    rows, cols = sum(comb(int(x), 2) for x in table.sum(1)), sum(comb(int(x), 2) for x in table.sum(0))
    expected = rows * cols / comb(len(a), 2)
    return (pairs - expected) / ((rows + cols) / 2 - expected)


def labels_of(result, n: int) -> list[int]:
    out = [-1] * n
    for number, theme in enumerate(result.themes):
        for i in theme.members:
            out[i] = number
    return out


@pytest.fixture(scope="module")
def answers() -> tuple[list[str], list[str]]:
    pairs = generate(30, seed=11)
    return [t for t, _ in pairs], [a for _, a in pairs]


@pytest.fixture(scope="module")
def result(answers):
    return cluster_answers(answers[1], seed=0)


def test_known_themes_are_recovered(answers, result) -> None:
    truth, texts = answers
    found = labels_of(result, len(texts))
    assert -1 not in found
    purity = sum(Counter(truth[i] for i in t.members).most_common(1)[0][1] for t in result.themes) / len(
        texts
    )
    assert purity >= 0.95
    assert adjusted_rand(found, truth) >= 0.8
    assert 6 <= len(result.themes) <= 9
    assert {k for k, _ in result.tried} == set(range(2, 13))


def test_representatives_and_labels_belong_to_their_theme(answers, result) -> None:
    truth, texts = answers
    assert [t.size for t in result.themes] == sorted((t.size for t in result.themes), reverse=True)
    for theme in result.themes:
        assert theme.size == len(theme.members)
        assert len(theme.representatives) == 3 and set(theme.representatives) <= set(theme.members)
        majority = Counter(truth[i] for i in theme.members).most_common(1)[0][0]
        assert any(w in k for k in theme.keywords for w in KEYWORDS[majority]), (theme.label, majority)
        assert theme.label == "、".join(theme.keywords)
        for i in theme.representatives:
            assert truth[i] == majority


def test_representatives_are_the_most_typical_answers() -> None:
    texts = (
        ["小区停车难，车位太少"] * 3
        + ["小区停车难，车位太少，另外路灯也坏了，公园设施老化需要修"]
        + ["养老服务跟不上，老人吃饭难"] * 4
    )
    result = cluster_answers(texts, k_max=2, representatives=3)
    parking = next(t for t in result.themes if 0 in t.members)
    assert set(parking.members) == {0, 1, 2, 3}
    assert parking.representatives == (0, 1, 2)


def test_same_seed_same_result_and_traditional_answers_join_their_theme(answers) -> None:
    _, texts = answers
    first = cluster_answers(texts, seed=3)
    assert cluster_answers(texts, seed=3) == first
    mixed = [*texts, to_traditional(texts[0]), to_traditional(texts[1])]
    again = cluster_answers(mixed, seed=3)
    found = labels_of(again, len(mixed))
    assert found[-2] == found[0] and found[-1] == found[1]


def test_answers_without_words_are_set_aside() -> None:
    texts = ["同意", "", "   ", *[t for _, t in generate(5, seed=2, themes=["养老服务", "营商环境"])]]
    result = cluster_answers(texts)
    assert set(result.unclustered) >= {1, 2}
    clustered = sorted(i for t in result.themes for i in t.members)
    assert sorted([*clustered, *result.unclustered]) == list(range(len(texts)))


def test_tiny_inputs() -> None:
    assert cluster_answers([]).themes == ()
    one = cluster_answers(["建议增加停车位"])
    assert [t.members for t in one.themes] == [(0,)]
    two = cluster_answers(["建议增加停车位", "养老服务不足"])
    assert sorted(i for t in two.themes for i in t.members) == [0, 1]


@pytest.mark.slow
def test_dense_vectors_as_a_weighted_part_keep_themes(answers) -> None:
    from sentence_transformers import SentenceTransformer

    from bot.settings import Settings

    model = SentenceTransformer(Settings().embedding_model_path(), device="cpu")
    truth, texts = answers
    calls: list[int] = []

    def embed(batch: list[str]) -> np.ndarray:
        calls.append(len(batch))
        return model.encode(batch, batch_size=64)

    result = cluster_answers(texts, embed=embed, dense_weight=0.2)
    assert calls == [len(texts)]
    assert adjusted_rand(labels_of(result, len(texts)), truth) >= 0.7


def test_links_addresses_and_phone_numbers_are_not_themes():
    """Contact details pasted into answers must not become a theme's label."""
    from bot.campaigns.features import text_terms

    terms = text_terms(
        "建议增加停车位，详见 https://example.com/a?b=1 ，联系 zhang@example.com 或 138-1234-5678"
    )
    assert "停车位" in terms
    assert not any(t in terms for t in ("https", "example", "com", "zhang", "138", "1234", "5678"))
