"""Delivery details: an order's delivery window and agent; the shop's delivery time and status message switches

Revision ID: 0029
Revises: 0023
Create Date: 2026-11-30 23:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("delivery_window_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("delivery_window_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("delivery_agent_name", sa.String(80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("delivery_agent_phone", sa.String(20), nullable=False, server_default=""))
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("delivery_days_min", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("delivery_days_max", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("delivery_area_days", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("silent_statuses", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("silent_statuses")
        batch_op.drop_column("delivery_area_days")
        batch_op.drop_column("delivery_days_max")
        batch_op.drop_column("delivery_days_min")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("delivery_agent_phone")
        batch_op.drop_column("delivery_agent_name")
        batch_op.drop_column("delivery_window_end")
        batch_op.drop_column("delivery_window_start")
