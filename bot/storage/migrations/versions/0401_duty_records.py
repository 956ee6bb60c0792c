"""duty records and similar items: duty_activities, supporters, submission_merges

Revision ID: 0401_duty_records
Revises: 0301_campaign_answers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0401_duty_records"
down_revision = "0301_campaign_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "duty_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_duty_activities_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_duty_activities_submission_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_activities")),
        sa.UniqueConstraint("key", name=op.f("uq_duty_activities_key")),
    )
    op.create_index("ix_duty_activities_member_date", "duty_activities", ["member_id", "on_date"])
    op.create_index("ix_duty_activities_submission_id", "duty_activities", ["submission_id"])
    op.create_table(
        "supporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("moved_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_supporters_submission_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["chat_identities.id"], name=op.f("fk_supporters_identity_id_chat_identities")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_supporters_member_id_members")),
        sa.ForeignKeyConstraint(
            ["moved_from_id"], ["submissions.id"], name=op.f("fk_supporters_moved_from_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supporters")),
        sa.UniqueConstraint("submission_id", "identity_id", name=op.f("uq_supporters_submission_id")),
    )
    op.create_index("ix_supporters_submission_id", "supporters", ["submission_id"])
    op.create_index("ix_supporters_member_id", "supporters", ["member_id"])
    op.create_table(
        "submission_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duplicate_id", sa.Integer(), nullable=False),
        sa.Column("into_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_id"], ["submissions.id"], name=op.f("fk_submission_merges_duplicate_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["into_id"], ["submissions.id"], name=op.f("fk_submission_merges_into_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_merges")),
        sa.UniqueConstraint("duplicate_id", name=op.f("uq_submission_merges_duplicate_id")),
    )
    op.create_index("ix_submission_merges_into_id", "submission_merges", ["into_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_submission_merges_into_id", table_name="submission_merges")
    op.drop_table("submission_merges")
    op.drop_index("ix_supporters_member_id", table_name="supporters")
    op.drop_index("ix_supporters_submission_id", table_name="supporters")
    op.drop_table("supporters")
    op.drop_index("ix_duty_activities_submission_id", table_name="duty_activities")
    op.drop_index("ix_duty_activities_member_date", table_name="duty_activities")
    op.drop_table("duty_activities")
