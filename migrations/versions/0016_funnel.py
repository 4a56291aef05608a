"""the funnel: when an order's hand-off page was first opened

The dashboard funnel counts orders whose shopper reached the WhatsApp hand-off page; the first opening
is kept on the order (later openings change nothing). Orders placed before this stay unknown (NULL).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("handoff_opened_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("handoff_opened_at")
