"""agents: presence due time and live streams per replica; teams: soft delete; cases by due

Revision ID: 0013
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_due_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index("ix_agents_offline_due", ["offline_due_at"], unique=False)

    op.create_table(
        "agent_streams",
        sa.Column("replica", sa.String(length=32), nullable=False),
        sa.Column("agent_id", BIG_ID, nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_agent_streams_agent_id_agents")),
        sa.PrimaryKeyConstraint("replica", "agent_id", name=op.f("pk_agent_streams")),
    )
    with op.batch_alter_table("agent_streams", schema=None) as batch_op:
        batch_op.create_index("ix_agent_streams_agent", ["agent_id", "beat_at"], unique=False)
        batch_op.create_index("ix_agent_streams_beat", ["beat_at"], unique=False)

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_teams_name", type_="unique")
    op.create_index("uq_teams_live_name", "teams", ["name"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_due_thread", ["sla_due_at", "thread_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_due_thread")
    op.drop_index("uq_teams_live_name", table_name="teams")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_teams_name", ["name"])
        batch_op.drop_column("deleted_at")
    op.drop_table("agent_streams")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index("ix_agents_offline_due")
        batch_op.drop_column("offline_due_at")
