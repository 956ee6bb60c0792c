"""documents desk (issue 11): kb_documents, one row per knowledge-base document (uploader, versions, removal)

Revision ID: 0701_documents
Revises: 0706_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0701_documents"
down_revision = "0706_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("doc_id", sa.String(400), nullable=False, unique=True),
        sa.Column("title", sa.String(400), nullable=False, server_default=""),
        sa.Column("file_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("uploaded_by", sa.String(120), nullable=False, server_default=""),
        sa.Column("uploaded_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("removed_at", utc, nullable=True),
        sa.Column("removed_by", sa.String(120), nullable=False, server_default=""),
    )
    op.create_index("ix_kb_documents_removed_at", "kb_documents", ["removed_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_kb_documents_removed_at", "kb_documents")
    op.drop_table("kb_documents")
