"""store_settings.receipt_tax_number and receipt_footer: what a payment receipt adds to the shop's details

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("receipt_tax_number", sa.String(40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("receipt_footer", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("receipt_footer")
        batch_op.drop_column("receipt_tax_number")
