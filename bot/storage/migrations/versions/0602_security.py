"""security and privacy (issue 14): submissions.private / offer_hidden, web_sessions, the per-chat notification
index, audit_log.repeats

Revision ID: 0602_security
Revises: 0601_update_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0602_security"
down_revision = "0601_update_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("offer_hidden", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Items titled with the start of their text (no title of their own) become private: their title is their text.
    subs = sa.table(
        "submissions", sa.column("id", sa.Integer()), sa.column("fields", sa.JSON()),
        sa.column("private", sa.Boolean()),
    )  # fmt: skip
    conn = op.get_bind()
    text_titled = [
        i
        for i, fields in conn.execute(sa.select(subs.c.id, subs.c.fields))
        if not (fields or {}).get("title")
    ]
    for start in range(0, len(text_titled), 500):
        conn.execute(
            subs.update().where(subs.c.id.in_(text_titled[start : start + 500])).values(private=True)
        )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("last_seen_at", utc, nullable=False),
    )
    op.create_index("ix_web_sessions_external_id", "web_sessions", ["external_id"])
    op.create_index("ix_web_sessions_member_id", "web_sessions", ["member_id"])
    op.create_index("ix_web_sessions_last_seen_at", "web_sessions", ["last_seen_at"])
    op.create_index("ix_notifications_channel_chat_sent", "notifications", ["channel", "chat_id", "sent_at"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("repeats")
    op.drop_index("ix_notifications_channel_chat_sent", "notifications")
    op.drop_table("web_sessions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("offer_hidden")
        batch.drop_column("private")
