"""order desk: a partial index of the open orders for the tab counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 16:45:00

"""

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_STATUSES_SQL = "status IN ('pending', 'confirmed', 'preparing', 'shipped', 'out_for_delivery', 'ready_for_pickup')"


def upgrade():
    op.create_index(
        "ix_orders_open",
        "orders",
        ["status", "source", "assigned_to_id", "created_at"],
        unique=False,
        postgresql_where=text(OPEN_STATUSES_SQL),
        sqlite_where=text(OPEN_STATUSES_SQL),
    )


def downgrade():
    op.drop_index("ix_orders_open", table_name="orders")
