"""duty activities (issue 13): activities, activity_invitees, activity_notices, member_committees

Revision ID: 0704_activities
Revises: 0703_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0704_activities"
down_revision = "0703_audit"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.Column:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}"),
        nullable=False,
    )


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", utc, nullable=False),
        sa.Column("ends_at", utc, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("rsvp_deadline", utc, nullable=False),
        sa.Column("leave_needs_approval", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("checkin_code", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.UniqueConstraint("checkin_code", name="uq_activities_checkin_code"),
    )
    op.create_table(
        "activity_invitees",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("activity_invitees", "activity_id", "activities"),
        _fk("activity_invitees", "member_id", "members"),
        sa.Column("answer", sa.String(10), nullable=False),
        sa.Column("answered_at", utc, nullable=True),
        sa.Column("leave_reason", sa.Text(), nullable=False),
        sa.Column("leave_state", sa.String(10), nullable=False),
        sa.Column("staff_note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("attended_at", utc, nullable=True),
        sa.Column("attendance_source", sa.String(10), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("activity_id", "member_id", name="uq_activity_invitees_activity_id"),
    )
    op.create_index("ix_activity_invitees_activity_id", "activity_invitees", ["activity_id"])
    op.create_index("ix_activity_invitees_member_id", "activity_invitees", ["member_id"])
    op.create_table(
        "activity_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("activity_notices", "activity_id", "activities"),
        _fk("activity_notices", "member_id", "members"),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.UniqueConstraint("activity_id", "member_id", "purpose", name="uq_activity_notices_activity_id"),
    )
    op.create_index("ix_activity_notices_activity", "activity_notices", ["activity_id", "purpose"])
    op.create_table(
        "member_committees",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("member_committees", "member_id", "members"),
        sa.Column("committee", sa.String(100), nullable=False),
        sa.UniqueConstraint("member_id", "committee", name="uq_member_committees_member_id"),
    )
    op.create_index("ix_member_committees_member_id", "member_committees", ["member_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("member_committees")
    op.drop_table("activity_notices")
    op.drop_table("activity_invitees")
    op.drop_table("activities")
