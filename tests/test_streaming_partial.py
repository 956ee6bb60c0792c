"""What a member sees while an LLM answer streams: never a citation marker that has not been checked."""

from __future__ import annotations

from bot.channels.telegram.streaming import CURSOR, _partial_html


def test_whole_and_half_generated_markers_are_hidden():
    assert _partial_html("委员可以提交材料[1]。") == "委员可以提交材料。" + CURSOR
    assert _partial_html("委员可以提交材料[") == "委员可以提交材料" + CURSOR
    assert _partial_html("提交【2，") == "提交" + CURSOR
    assert _partial_html("a < b [3]") == "a &lt; b " + CURSOR  # escaped as HTML


def test_a_long_partial_is_cut_to_the_message_limit():
    shown = _partial_html("字" * 5000)
    assert len(shown) <= 4096 and shown.endswith(CURSOR)
