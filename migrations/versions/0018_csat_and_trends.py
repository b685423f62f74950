"""CSAT surveys and responses, tag spikes raised

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 08:59:33.085422
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trend_spikes",
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tag", "period", name=op.f("pk_trend_spikes")),
    )
    op.create_table(
        "csat_responses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "thread_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("channel_type", sa.String(length=32), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("experiment_bucket", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_csat_responses_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_csat_responses_thread_id_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_responses")),
        sa.UniqueConstraint("case_id", name=op.f("uq_csat_responses_case_id")),
    )
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.create_index("ix_csat_responses_agent", ["agent_id", "created_at"], unique=False)
        batch_op.create_index("ix_csat_responses_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_csat_responses_team", ["team_id", "created_at"], unique=False)

    op.create_table(
        "csat_surveys",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "thread_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_csat_surveys_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_csat_surveys_thread_id_threads")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_csat_surveys")),
    )
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_csat_surveys_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_csat_surveys_due")

    op.drop_table("csat_surveys")
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_csat_responses_team")
        batch_op.drop_index("ix_csat_responses_created")
        batch_op.drop_index("ix_csat_responses_agent")

    op.drop_table("csat_responses")
    op.drop_table("trend_spikes")
