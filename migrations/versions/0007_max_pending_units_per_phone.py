"""store setting: the most units one phone number may hold in orders not yet confirmed

Six 99-unit checkouts from one phone held 396 of a shop's 400 units for a day. Placing an order now
refuses to take a phone past this many units in its pending orders (default 50).

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 14:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("store_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_pending_units_per_phone", sa.Integer(), nullable=False, server_default=sa.text("'50'"))
        )


def downgrade():
    with op.batch_alter_table("store_settings", schema=None) as batch_op:
        batch_op.drop_column("max_pending_units_per_phone")
