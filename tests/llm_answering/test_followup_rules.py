"""Rule-based follow-up detection and rewriting (no model needed)."""

from __future__ import annotations

import pytest

from bot.answering.followup import Turn, clean_condensed, is_followup, rule_rewrite


@pytest.mark.parametrize(
    "question",
    [
        "那社情民意呢？",
        "那么微建议呢",
        "还有呢？",
        "它有什么作用？",
        "这个怎么提交？",
        "该办法什么时候施行？",
        "那對上協調呢？",
    ],
)
def test_elliptical_followups_are_detected(question):
    assert is_followup(question)


@pytest.mark.parametrize(
    "question", ["委员怎么参加学习培训？", "政协机关的基本属性是什么？", "提案的办理时限是多久？", ""]
)
def test_standalone_questions_are_not_followups(question):
    assert not is_followup(question)


def test_new_subject_takes_the_previous_predicate():
    history = [Turn("广州市政协要建设一个什么样的机关？")]
    assert rule_rewrite("那山东省政协呢？", history) == "山东省政协要建设一个什么样的机关？"


def test_pronoun_is_replaced_by_the_previous_topic():
    history = [Turn("什么是政协云？")]
    rewritten = rule_rewrite("它能提交哪些材料？", history)
    assert "政协云" in rewritten and "它" not in rewritten and "提交" in rewritten


def test_more_of_the_same_repeats_the_resolved_previous_question():
    history = [Turn("那对外协调呢？", standalone="对外协调要注意什么？")]
    assert rule_rewrite("还有呢？", history) == "对外协调要注意什么？"


def test_without_history_or_when_standalone_nothing_changes():
    assert rule_rewrite("那社情民意呢？", []) == "那社情民意呢？"
    assert rule_rewrite("委员怎么参加学习培训？", [Turn("什么是政协云？")]) == "委员怎么参加学习培训？"


def test_condensed_output_is_checked():
    assert (
        clean_condensed("独立问题：社情民意信息有什么作用？\n解释……", "那社情民意呢？")
        == "社情民意信息有什么作用？"
    )
    assert clean_condensed("", "那社情民意呢？") is None
    assert clean_condensed("委员：你知道什么？", "那山东省政协呢？") is None  # dropped what was asked about
    assert (
        clean_condensed("成都市政协提升了哪四个能力？", "它提升了哪四个能力？")
        == "成都市政协提升了哪四个能力？"
    )
    assert clean_condensed("好" * 200, "那社情民意呢？") is None
