"""campaigns and campaign deliveries (staff tools: broadcasts that resume without double sending)

Revision ID: 0201_campaigns
Revises: 0101_chat_turns
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0201_campaigns"
down_revision = "0101_chat_turns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("starts_at", utc, nullable=False),
        sa.Column("ends_at", utc, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=50), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_deliveries_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["chat_identities.id"],
            name=op.f("fk_campaign_deliveries_identity_id_chat_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_deliveries")),
        sa.UniqueConstraint("campaign_id", "chat_id", name=op.f("uq_campaign_deliveries_campaign_id")),
    )
    op.create_index(
        "ix_campaign_deliveries_state", "campaign_deliveries", ["campaign_id", "state", "id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_campaign_deliveries_state", table_name="campaign_deliveries")
    op.drop_table("campaign_deliveries")
    op.drop_table("campaigns")
