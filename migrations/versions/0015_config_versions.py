"""config versions: the token replicas check before reusing their compiled routing rules

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-01 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_config_versions")),
    )


def downgrade() -> None:
    op.drop_table("config_versions")
