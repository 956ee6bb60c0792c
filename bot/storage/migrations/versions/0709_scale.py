"""scale out (issue 12): notification leases, work leases, shared rate slots and flood counts

Revision ID: 0707_scale
Revises: 0702_official_answers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0707_scale"
down_revision = "0702_official_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("claimed_until", utc, nullable=True))
        batch.add_column(sa.Column("in_flight_piece", sa.Integer(), nullable=True))
    op.create_table(
        "work_leases",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", utc, nullable=False),
    )
    op.create_table(
        "rate_slots",
        sa.Column("key", sa.String(150), primary_key=True),
        sa.Column("tat", sa.Float(), nullable=False),
    )
    op.create_table(
        "flood_counts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window", sa.BigInteger(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":  # counters, not records: no write-ahead log needed
        op.execute("ALTER TABLE rate_slots SET UNLOGGED")
        op.execute("ALTER TABLE flood_counts SET UNLOGGED")


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("flood_counts")
    op.drop_table("rate_slots")
    op.drop_table("work_leases")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("in_flight_piece")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
