"""questions log and official answers (issue 11): official_answers, qa_log.decision / official_id, qa_sources,
indexes for the questions log's filters and paging

Revision ID: 0702_official_answers
Revises: 0701_documents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.models.base

revision = "0702_official_answers"
down_revision = "0701_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (existing answers get decision "answer" or "decline" and their cited documents)."""
    utc = bot.storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "official_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column(
            "from_qa_id",
            sa.Integer(),
            sa.ForeignKey("qa_log.id", name="fk_official_answers_from_qa_id_qa_log"),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
    )
    op.create_index("ix_official_answers_status_id", "official_answers", ["status", "id"])
    with op.batch_alter_table("qa_log") as batch:
        batch.add_column(sa.Column("decision", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("official_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_qa_log_official_id_official_answers", "official_answers", ["official_id"], ["id"]
        )
    op.create_index("ix_qa_log_official_id", "qa_log", ["official_id"])
    op.create_index("ix_qa_log_declined_id", "qa_log", ["declined", "id"])
    op.create_index("ix_qa_log_vote_id", "qa_log", ["vote", "id"])
    op.create_index("ix_qa_log_channel_id", "qa_log", ["channel", "id"])
    op.create_index("ix_qa_log_decision_id", "qa_log", ["decision", "id"])
    op.create_table(
        "qa_sources",
        sa.Column(
            "qa_id",
            sa.Integer(),
            sa.ForeignKey("qa_log.id", name="fk_qa_sources_qa_id_qa_log", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("doc_id", sa.String(200), primary_key=True),
    )
    op.create_index("ix_qa_sources_doc_qa", "qa_sources", ["doc_id", "qa_id"])
    conn = op.get_bind()
    qa = sa.table(
        "qa_log", sa.column("id", sa.Integer()), sa.column("declined", sa.Boolean()),
        sa.column("decision", sa.String()), sa.column("chunk_ids", sa.JSON()),
    )  # fmt: skip
    conn.execute(qa.update().where(qa.c.declined == sa.true()).values(decision="decline"))
    conn.execute(qa.update().where(qa.c.declined == sa.false()).values(decision="answer"))
    sources = sa.table("qa_sources", sa.column("qa_id", sa.Integer()), sa.column("doc_id", sa.String()))
    batch_rows: list[dict] = []
    for qa_id, chunk_ids in conn.execute(sa.select(qa.c.id, qa.c.chunk_ids)):
        docs = dict.fromkeys(str(c).rsplit(":", 2)[0][:200] for c in chunk_ids or [])
        batch_rows.extend({"qa_id": qa_id, "doc_id": d} for d in docs)
        if len(batch_rows) >= 1000:
            conn.execute(sources.insert(), batch_rows)
            batch_rows = []
    if batch_rows:
        conn.execute(sources.insert(), batch_rows)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("qa_sources")
    for name in ("decision_id", "channel_id", "vote_id", "declined_id", "official_id"):
        op.drop_index(f"ix_qa_log_{name}", "qa_log")
    with op.batch_alter_table("qa_log") as batch:
        batch.drop_constraint("fk_qa_log_official_id_official_answers", type_="foreignkey")
        batch.drop_column("official_id")
        batch.drop_column("decision")
    op.drop_table("official_answers")
