"""member's script and follow-ups (issue 10): chat_identities.script_recent, the followups table

Revision ID: 0706_messages
Revises: 0705_web_history
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0706_messages"
down_revision = "0705_web_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("chat_identities") as batch:
        batch.add_column(sa.Column("script_recent", sa.String(8), nullable=False, server_default=""))
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("qa_id", sa.Integer(), sa.ForeignKey("qa_log.id", name="fk_followups_qa_id_qa_log"),
                  nullable=True),
        sa.Column("identity_id", sa.Integer(),
                  sa.ForeignKey("chat_identities.id", name="fk_followups_identity_id_chat_identities"),
                  nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", name="fk_followups_member_id_members"),
                  nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("done_at", utc, nullable=True),
        sa.Column("done_by", sa.String(120), nullable=False, server_default=""),
        sa.UniqueConstraint("qa_id", name="uq_followups_qa_id"),
    )  # fmt: skip
    op.create_index("ix_followups_identity_id", "followups", ["identity_id"])
    op.create_index("ix_followups_member_id", "followups", ["member_id"])
    op.create_index("ix_followups_created_at", "followups", ["created_at"])
    op.create_index("ix_followups_done_at", "followups", ["done_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("followups")
    with op.batch_alter_table("chat_identities") as batch:
        batch.drop_column("script_recent")
