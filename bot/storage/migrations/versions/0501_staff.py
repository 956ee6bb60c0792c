"""staff tools: staff_accounts, staff_sessions, audit_log, assignments, submission_replies, reminders,
staff_prompts; notifications.buttons

Revision ID: 0501_staff
Revises: 0401_duty_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0501_staff"
down_revision = "0401_duty_records"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


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
        "staff_accounts",
        _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("telegram_id", sa.String(40), nullable=True, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        _id(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _fk("staff_sessions", "account_id", "staff_accounts"),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
    )
    op.create_index("ix_staff_sessions_account_id", "staff_sessions", ["account_id"])
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", utc, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_table(
        "assignments",
        _id(),
        _fk("assignments", "submission_id", "submissions"),
        sa.Column("body", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("staff", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
    )
    op.create_index("ix_assignments_submission_id", "assignments", ["submission_id"])
    op.create_table(
        "submission_replies",
        _id(),
        _fk("submission_replies", "submission_id", "submissions"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(2), nullable=False),
        sa.Column("staff", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("rating", sa.String(10), nullable=True),
        sa.Column("rated_at", utc, nullable=True),
    )
    op.create_index("ix_submission_replies_submission_id", "submission_replies", ["submission_id"])
    op.create_table(
        "reminders",
        _id(),
        _fk("reminders", "submission_id", "submissions"),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("staff", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
    )
    op.create_index("ix_reminders_submission_id", "reminders", ["submission_id"])
    op.create_table(
        "staff_prompts",
        _id(),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("receipt_no", sa.String(30), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.UniqueConstraint("channel", "user_id", name="uq_staff_prompts_channel"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("buttons", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("buttons")
    for table in ("staff_prompts", "reminders", "submission_replies", "assignments", "audit_log"):
        op.drop_table(table)
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
