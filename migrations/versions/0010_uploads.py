"""uploads: web-chat visitors' files in a table of their own, with an expiry

Revision ID: 0010
Revises: 0003
Create Date: 2026-12-01 09:30:00

Uploads used to live in connector_state (`file:<id>`, base64 in JSON) and never expired; they
move here, expiring 30 days after this migration (their upload time was not kept).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None

LEGACY_TTL = timedelta(days=30)


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_uploads_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_channel_owner", "uploads", ["channel_id", "owner"],
                    unique=False)
    op.create_index(op.f("ix_uploads_expires_at"), "uploads", ["expires_at"], unique=False)
    _move_legacy_uploads()


def _move_legacy_uploads() -> None:
    bind = op.get_bind()
    state = sa.table("connector_state", sa.column("channel_id", sa.String),
                     sa.column("key", sa.String), sa.column("value", sa.Text))
    channels = sa.table("channels", sa.column("id", sa.String))
    uploads = sa.table("uploads", *(sa.column(name) for name in (
        "id", "channel_id", "owner", "mime_type", "filename", "size", "data", "created_at",
        "expires_at")))
    keys = bind.execute(sa.select(state.c.channel_id, state.c.key)
                        .where(state.c.key.like("file:%"))).all()
    known = {row.id for row in bind.execute(sa.select(channels.c.id))}
    # SQLite keeps these naive (router.models.base.UTCDateTime stores UTC without an offset).
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for channel_id, key in keys:
        where = sa.and_(state.c.channel_id == channel_id, state.c.key == key)
        if channel_id in known:
            value = bind.execute(sa.select(state.c.value).where(where)).scalar_one()
            try:
                record = json.loads(value)
                data = base64.b64decode(record["data"])
                bind.execute(uploads.insert().values(
                    id=key.removeprefix("file:"), channel_id=channel_id,
                    owner=str(record["visitor_id"])[:300],
                    mime_type=str(record.get("mime_type") or "application/octet-stream")[:200],
                    filename=(str(record["filename"])[:300] if record.get("filename")
                              else None),
                    size=len(data), data=data, created_at=now, expires_at=now + LEGACY_TTL))
            except (ValueError, KeyError, TypeError):
                pass  # an unreadable record was never downloadable either
        bind.execute(state.delete().where(where))


def downgrade() -> None:
    op.drop_index(op.f("ix_uploads_expires_at"), table_name="uploads")
    op.drop_index("ix_uploads_channel_owner", table_name="uploads")
    op.drop_table("uploads")
