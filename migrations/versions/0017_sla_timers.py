"""SLA timers (stored due moments the scheduler sleeps until); the default SLA policy flag

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("sla_policies") as batch:
        batch.add_column(sa.Column("is_default", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    op.create_table(
        "sla_timers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_sla_timers_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_timers")),
        sa.UniqueConstraint("case_id", "metric", "kind", "target_at",
                            name=op.f("uq_sla_timers_case_id_metric_kind_target_at")),
    )
    op.create_index("ix_sla_timers_unfired", "sla_timers", ["due_at"],
                    postgresql_where=sa.text("fired_at IS NULL"),
                    sqlite_where=sa.text("fired_at IS NULL"))
    op.create_index("ix_sla_timers_case", "sla_timers", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_sla_timers_case", table_name="sla_timers")
    op.drop_index("ix_sla_timers_unfired", table_name="sla_timers")
    op.drop_table("sla_timers")
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("is_default")
