"""speakers counted from speaker rows

daily_counts.speakers is dropped: the store counts a day's active speakers
from daily_speaker_counts (one row per member who spoke), which a message
batch can write without first reading what is there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:58:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_counts", schema=None) as batch_op:
        batch_op.drop_column("speakers")


def downgrade() -> None:
    with op.batch_alter_table("daily_counts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speakers", sa.Integer(), nullable=False, server_default="0"))
    counts = sa.table(
        "daily_counts", sa.column("room_id"), sa.column("day"), sa.column("speakers", sa.Integer())
    )
    speakers = sa.table("daily_speaker_counts", sa.column("room_id"), sa.column("day"))
    op.execute(
        counts.update().values(
            speakers=sa.select(sa.func.count())
            .select_from(speakers)
            .where(speakers.c.room_id == counts.c.room_id, speakers.c.day == counts.c.day)
            .scalar_subquery()
        )
    )
