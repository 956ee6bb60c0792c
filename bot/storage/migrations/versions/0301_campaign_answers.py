"""campaign answers: submissions.campaign_id links an answer (type campaign) to its campaign

Revision ID: 0301_campaign_answers
Revises: 0201_campaigns
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0301_campaign_answers"
down_revision = "0201_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.create_index("ix_submissions_campaign_id", ["campaign_id"], unique=False)
        batch.create_foreign_key("fk_submissions_campaign_id_campaigns", "campaigns", ["campaign_id"], ["id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("fk_submissions_campaign_id_campaigns", type_="foreignkey")
        batch.drop_index("ix_submissions_campaign_id")
        batch.drop_column("campaign_id")
