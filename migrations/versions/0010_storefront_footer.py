"""storefront footer: the shop's address and its returns and delivery policies

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("returns_policy", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("delivery_policy", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("delivery_policy")
        batch_op.drop_column("returns_policy")
        batch_op.drop_column("address")
