"""The words a scoring rule may use: activity codes and the attributes conditions test."""

from __future__ import annotations

# Activity codes the system records by itself; a rule table may add others that staff enter by hand.
ACTIVITY_TYPES: dict[str, str] = {
    "proposal": "提交提案",
    "opinion": "报送社情民意信息",
    "micro": "提交微建议",
    "campaign_answer": "参与征集意见",
    "meeting": "参加会议",
    "training": "参加学习培训",
    "speech": "大会发言",
    "inspection": "参加视察调研",
    "support": "附议他人建议",
    "duty_event": "履职活动（通知与签到）",
}

# Attributes a condition may test; an activity carries them in its attributes mapping.
ATTRIBUTES: dict[str, str] = {
    "accepted": "已立案",
    "key": "重点提案",
    "adopted": "已采用",
    "leader_comment": "获领导批示",
    "comment_level": "批示级别（市级/省级/全国）",
    "role": "提案人身份（第一提案人/联名）",
    "selected": "被选用",
    "excellent": "评为优秀",
    "attended": "出席",
    "meeting_type": "会议类型（全体会议/常委会议/专委会会议）",
    "excused": "请假",
}


def activity_name(code: str) -> str:
    """The Chinese name of an activity code (the code itself when unknown)."""
    return ACTIVITY_TYPES.get(code, code)
