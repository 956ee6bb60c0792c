"""web chat history (issue 10): web_messages, the conversation of each browser session

Revision ID: 0705_web_history
Revises: 0704_activities
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0705_web_history"
down_revision = "0704_activities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "web_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("update_key", sa.String(64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("answered_at", utc, nullable=True),
        sa.UniqueConstraint("chat_id", "update_key", "seq", name="uq_web_messages_key"),
    )
    op.create_index("ix_web_messages_chat", "web_messages", ["chat_id", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_web_messages_chat", "web_messages")
    op.drop_table("web_messages")
