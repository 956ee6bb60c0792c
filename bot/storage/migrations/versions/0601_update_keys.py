"""update keys and delivery: Telegram update keys carry the bot id; outbox pieces_sent, next_attempt_at, failed_at

Telegram keys become "<bot id>:<update_id>" (written by the channel; the column is unchanged). Old keys of update_id
alone stay until pruned (7 days) and never match a new key. Notifications given up by the old code (attempts ≥ 5)
are marked failed.

Revision ID: 0601_update_keys
Revises: 0501_staff
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0601_update_keys"
down_revision = "0501_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("pieces_sent", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", utc, nullable=True))
        batch.add_column(sa.Column("failed_at", utc, nullable=True))
    notes = sa.table(
        "notifications",
        sa.column("attempts", sa.Integer()),
        sa.column("sent_at", utc),
        sa.column("created_at", utc),
        sa.column("failed_at", utc),
    )
    op.execute(
        notes.update()
        .where(notes.c.sent_at.is_(None), notes.c.attempts >= 5)
        .values(failed_at=notes.c.created_at)
    )


def downgrade() -> None:
    """Revert this revision (given-up notifications keep attempts ≥ 5 only if they had them)."""
    notes = sa.table(
        "notifications", sa.column("attempts", sa.Integer()), sa.column("failed_at", sa.DateTime())
    )
    op.execute(notes.update().where(notes.c.failed_at.is_not(None)).values(attempts=5))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("pieces_sent")
