"""Staff control over the similar-item offer: an item can be kept out of what other people are offered."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.staff import audit, review
from bot.staff.accounts import Staff

ACTIONS = {"offer_hide": True, "offer_show": False}  # form action -> offer_hidden


def set_offer_hidden(session: Session, staff: Staff, receipt: str, hidden: bool) -> None:
    """Mark the item (by receipt) as never / again offered as a similar item; audited as `offer_hidden`.

    Raises StaffError (Chinese message) for an unknown receipt."""
    item = review.load(session, receipt)
    before = {"offer_hidden": item.offer_hidden, "private": item.private}
    item.offer_hidden = hidden
    session.flush()
    after = {"offer_hidden": item.offer_hidden, "private": item.private}
    audit.record(
        session, staff.username, "offer_hidden", f"item:{item.receipt_no}", before, after, staff.channel
    )
