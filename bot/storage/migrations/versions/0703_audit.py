"""the readable audit log (issue 11 item 5): indexes for its filters by actor and by target

Revision ID: 0703_audit
Revises: 0602_security
"""

from __future__ import annotations

from alembic import op

revision = "0703_audit"
down_revision = "0602_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_target", "audit_log", ["target"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_audit_log_target", "audit_log")
    op.drop_index("ix_audit_log_actor", "audit_log")
