"""store time zone: times are shown in the shop's zone, not UTC

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Empty means "the usual zone of the shop's country" (checkout/dates.py default_time_zone).
    with op.batch_alter_table("store_settings") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("store_settings") as batch:
        batch.drop_column("time_zone")
