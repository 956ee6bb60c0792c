"""Script of an answer in the chat: the bot's own words follow the member, the documents' words never change."""

from __future__ import annotations

from bot.chat.qa import render_answer
from bot.textnorm import to_simplified


def _labels(reply) -> list[str]:
    return [button.label for row in reply.buttons for button in row]


def test_traditional_question_gets_traditional_own_words_and_the_documents_characters(real_answerer):
    answer = real_answerer.answer("提案審查要在多少個工作日內完成？")
    assert not answer.declined
    reply = render_answer(answer, 7)
    assert "<b>出處</b>" in reply.html and "<b>出处</b>" not in reply.html
    assert "根據知識庫，相關原文如下" in reply.html
    # the quote and the title are the Simplified document's own characters
    assert "提案审查应当在收到提案后十五个工作日内完成" in reply.html
    assert "《青川市政协提案工作条例》" in reply.html


def test_simplified_question_gets_simplified_own_words(real_answerer):
    reply = render_answer(real_answerer.answer("提案审查要在多少个工作日内完成？"), 8)
    assert "<b>出处</b>" in reply.html and "根据知识库，相关原文如下" in reply.html


def test_traditional_decline_and_its_buttons_are_traditional(real_answerer):
    answer = real_answerer.answer("請問今天天氣怎麼樣？")
    assert answer.declined
    reply = render_answer(answer, 9)
    labels = _labels(reply)
    assert "轉為微建議" in labels[0] and to_simplified(labels[0]) != labels[0]
    # one decline, said once (issue 10), in the member's script
    assert reply.html.count("沒有找到") == 1 and "没有找到" not in reply.html
    assert "知識庫中沒有找到" in reply.html
