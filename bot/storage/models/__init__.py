"""All tables; importing this package registers them on Base.metadata."""

from bot.storage.models.base import Base, utcnow
from bot.storage.models.chat_turns import ChatTurn
from bot.storage.models.conversations import FlowState, ProcessedUpdate
from bot.storage.models.coordination import FloodCount, RateSlot, WorkLease
from bot.storage.models.members import ChatIdentity, Invitation, Member
from bot.storage.models.notifications import Notification
from bot.storage.models.official_answers import OfficialAnswer
from bot.storage.models.qa import QALog, QASource
from bot.storage.models.submissions import Attachment, ReceiptCounter, StatusChange, Submission
from bot.storage.models.web_messages import WebMessage
from bot.storage.models.web_sessions import WebSession

__all__ = [
    "Attachment",
    "Base",
    "ChatIdentity",
    "ChatTurn",
    "FloodCount",
    "FlowState",
    "Invitation",
    "Member",
    "Notification",
    "OfficialAnswer",
    "ProcessedUpdate",
    "QALog",
    "QASource",
    "RateSlot",
    "ReceiptCounter",
    "StatusChange",
    "Submission",
    "WebMessage",
    "WebSession",
    "WorkLease",
    "utcnow",
]
