"""store_settings.chat_texts: the shop's own wording of the ordering chat, per language

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("chat_texts", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("chat_texts")
