"""The member's rating of a reply (满意 / 基本满意 / 不满意): stored on the reply, the item moves to 委员评价."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.texts import say
from bot.chat.types import Reply
from bot.staff.models import SubmissionReply
from bot.staff.review import RATINGS
from bot.storage.models import ChatIdentity, Submission, utcnow
from bot.suggestions.status import set_status
from bot.suggestions.workflow import allowed_moves


def rate(session: Session, ident: ChatIdentity, reply_id: str, value: str) -> list[Reply]:
    """Store the member's rating of a reply to their own item (once); a forged or stale button is refused.

    The member is thanked once, in a message in their script (no toast and no status notification besides)."""
    row = session.get(SubmissionReply, int(reply_id), with_for_update=True) if reply_id.isdigit() else None
    item = session.get(Submission, row.submission_id) if row is not None else None
    mine = item is not None and (
        item.identity_id == ident.id or (ident.member_id is not None and item.member_id == ident.member_id)
    )
    if not mine or value not in ("1", "2", "3"):
        return [Reply(toast=say("rating_gone"))]
    if row.rating:
        return [Reply(toast=say("rating_already", rating=say(f"btn_rating_{RATINGS.index(row.rating) + 1}")))]
    row.rating, row.rated_at = RATINGS[int(value) - 1], utcnow()
    if "rated" in allowed_moves(item.type, item.status):  # the member's own move: the thanks below tells them
        set_status(session, item.receipt_no, "rated", "", "member", notify=False)
    return [Reply(say("rating_thanks", rating=say(f"btn_rating_{value}")))]  # one thanks (issue 10)
