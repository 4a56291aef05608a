"""delivery exceptions: failed deliveries, the customer's choices, returns to the shop

New open statuses (delivery_failed, rescheduled, returning; returned is history), so the partial indexes over
open orders are made again with the longer list: `ix_orders_open` everywhere, and the trigram ones on
PostgreSQL where pg_trgm is installed. A new address waiting for staff (orders.requested_address), the shop's
choice whether it must be approved, and where a courier takes the customer's choice (carriers.action_url,
action_token).

Revision ID: 0031
Revises: 0033
Create Date: 2026-12-01 02:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0033"
branch_labels = None
depends_on = None

# A copy of checkout.models.orders.OPEN_STATUSES_SQL as it was when this migration was written.
OPEN_STATUSES_SQL = (
    "status IN ('pending', 'confirmed', 'preparing', 'shipped', 'out_for_delivery', 'ready_for_pickup', "
    "'delivery_failed', 'rescheduled', 'returning')"
)
PREVIOUS_OPEN_STATUSES_SQL = (
    "status IN ('pending', 'confirmed', 'preparing', 'shipped', 'out_for_delivery', 'ready_for_pickup')"
)
TRIGRAM_INDEXES = {
    "ix_orders_open_customer_phone_trgm": "customer_phone",
    "ix_orders_open_customer_name_trgm": "lower(customer_name)",
}


def _rebuild_open_indexes(where: str) -> None:
    op.drop_index("ix_orders_open", table_name="orders")
    op.create_index(
        "ix_orders_open",
        "orders",
        ["status", "source", "assigned_to_id", "created_at"],
        unique=False,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.scalar(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    )
    if schema is None:
        return  # 0005 skipped them too
    for name, expression in TRIGRAM_INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON orders USING gin ({expression} {schema}.gin_trgm_ops) WHERE {where}")


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_address", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("store_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_change_needs_approval", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_url", sa.String(length=300), server_default="", nullable=False))
        batch_op.add_column(sa.Column("action_token", sa.String(length=200), server_default="", nullable=False))
    _rebuild_open_indexes(OPEN_STATUSES_SQL)


def downgrade():
    _rebuild_open_indexes(PREVIOUS_OPEN_STATUSES_SQL)
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.drop_column("action_token")
        batch_op.drop_column("action_url")
    with op.batch_alter_table("store_settings", schema=None) as batch_op:
        batch_op.drop_column("address_change_needs_approval")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("requested_address")
