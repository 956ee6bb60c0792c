"""The member's rating of a reply (满意 / 基本满意 / 不满意): stored on the reply, the item moves to 委员评价."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.types import Reply
from bot.staff.models import SubmissionReply
from bot.staff.review import RATINGS
from bot.staff.texts import t
from bot.storage.models import ChatIdentity, Submission, utcnow
from bot.suggestions.status import set_status
from bot.suggestions.workflow import allowed_moves


def rate(session: Session, ident: ChatIdentity, reply_id: str, value: str) -> list[Reply]:
    """Store the member's rating of a reply to their own item (once); a forged or stale button is refused."""
    row = session.get(SubmissionReply, int(reply_id), with_for_update=True) if reply_id.isdigit() else None
    item = session.get(Submission, row.submission_id) if row is not None else None
    own = item is not None and (
        item.identity_id == ident.id or (ident.member_id is not None and item.member_id == ident.member_id)
    )
    if not own or value not in ("1", "2", "3"):
        return [Reply(toast=t("rating_gone"))]
    if row.rating:
        return [Reply(toast=t("rating_already", rating=row.rating))]
    row.rating, row.rated_at = RATINGS[int(value) - 1], utcnow()
    if "rated" in allowed_moves(item.type, item.status):
        set_status(session, item.receipt_no, "rated", "", "member")
    text = t("rating_thanks", rating=row.rating)
    return [Reply(text, toast=text)]
