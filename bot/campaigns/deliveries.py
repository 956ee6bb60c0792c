"""The database side of broadcasts: recipients per campaign, claims, outcomes and blocked members."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from bot.campaigns.broadcast import Claimed
from bot.campaigns.models import CampaignDelivery
from bot.storage import Database
from bot.storage.models import ChatIdentity, utcnow


class SqlDeliveryStore:
    """DeliveryStore on the project's database; every step is its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_recipients(self, campaign_id: int, recipients: Iterable[tuple[str, int | None]]) -> int:
        """Add (chat_id, identity_id) recipients not yet listed; the number added (idempotent)."""
        with self.db.session() as s:
            known = set(
                s.scalars(select(CampaignDelivery.chat_id).where(CampaignDelivery.campaign_id == campaign_id))
            )
            rows = []
            for chat_id, identity_id in recipients:
                if str(chat_id) not in known:
                    known.add(str(chat_id))
                    rows.append(
                        CampaignDelivery(
                            campaign_id=campaign_id, chat_id=str(chat_id), identity_id=identity_id
                        )
                    )
            s.add_all(rows)
            return len(rows)

    def reconcile(self, campaign_id: int, resend_unknown: bool) -> int:
        """Rows left `sending` by a crash become `unknown`; with resend_unknown, unknown rows go back to pending."""
        with self.db.session() as s:
            moved = s.execute(
                update(CampaignDelivery)
                .where(CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.state == "sending")
                .values(state="unknown", error="发送中断，无法确认是否送达", updated_at=utcnow())
            ).rowcount
            if resend_unknown:
                s.execute(
                    update(CampaignDelivery)
                    .where(CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.state == "unknown")
                    .values(state="pending", updated_at=utcnow())
                )
            return moved

    def claim(self, campaign_id: int) -> Claimed | None:
        """Mark the next pending recipient `sending` (committed before any send) and return it."""
        while True:
            with self.db.session() as s:
                row = s.execute(
                    select(CampaignDelivery.id, CampaignDelivery.chat_id)
                    .where(CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.state == "pending")
                    .order_by(CampaignDelivery.id)
                    .limit(1)
                ).first()
                if row is None:
                    return None
                won = s.execute(  # another process may have claimed it in between
                    update(CampaignDelivery)
                    .where(CampaignDelivery.id == row.id, CampaignDelivery.state == "pending")
                    .values(state="sending", attempts=CampaignDelivery.attempts + 1, updated_at=utcnow())
                ).rowcount
            if won:
                return Claimed(delivery_id=row.id, chat_id=row.chat_id)

    def finish(self, delivery_id: int, state: str, message_id: str = "", error: str = "") -> None:
        """Record the outcome of one send."""
        with self.db.session() as s:
            s.execute(
                update(CampaignDelivery)
                .where(CampaignDelivery.id == delivery_id)
                .values(state=state, message_id=message_id, error=error[:500], updated_at=utcnow())
            )

    def mark_blocked(self, chat_id: str) -> None:
        """The member blocked the bot: flag their chat identity so later sends skip it."""
        with self.db.session() as s:
            s.execute(update(ChatIdentity).where(ChatIdentity.chat_id == str(chat_id)).values(blocked=True))

    def counts(self, campaign_id: int) -> dict[str, int]:
        """Recipients per state."""
        with self.db.session() as s:
            rows = s.execute(
                select(CampaignDelivery.state, func.count())
                .where(CampaignDelivery.campaign_id == campaign_id)
                .group_by(CampaignDelivery.state)
            )
            return {state: count for state, count in rows}

    def chats_in_state(self, campaign_id: int, state: str) -> list[str]:
        """Chat ids in one state, e.g. the `unknown` ones staff may want to check."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(CampaignDelivery.chat_id)
                    .where(CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.state == state)
                    .order_by(CampaignDelivery.id)
                )
            )
