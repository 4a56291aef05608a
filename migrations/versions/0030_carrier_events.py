"""carriers and carrier_events: couriers' webhooks, configured in the admin, events stored first and processed once

Revision ID: 0030
Revises: 0023
Create Date: 2026-11-30 23:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "carriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("preset", sa.String(length=24), nullable=False),
        sa.Column("auth", sa.String(length=8), nullable=False),
        sa.Column("auth_header", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("status_map", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carriers")),
        sa.UniqueConstraint("name", name=op.f("uq_carriers_name")),
    )
    op.create_table(
        "carrier_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tracking_number", sa.String(length=80), nullable=False),
        sa.Column("carrier_status", sa.String(length=80), nullable=False),
        sa.Column("mapped_event", sa.String(length=24), nullable=False),
        sa.Column("occurred", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["carrier_id"], ["carriers.id"], name=op.f("fk_carrier_events_carrier_id_carriers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_carrier_events_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_events")),
        sa.UniqueConstraint("carrier_id", "dedupe_key", name="uq_carrier_events_carrier_dedupe"),
    )
    with op.batch_alter_table("carrier_events", schema=None) as batch_op:
        for column in ("carrier_id", "received_at", "tracking_number", "order_id", "processed_at"):
            batch_op.create_index(batch_op.f(f"ix_carrier_events_{column}"), [column], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        # A courier's event finds its order by tracking number.
        batch_op.create_index(batch_op.f("ix_orders_tracking_number"), ["tracking_number"], unique=False)


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_tracking_number"))
    with op.batch_alter_table("carrier_events", schema=None) as batch_op:
        for column in ("processed_at", "order_id", "tracking_number", "received_at", "carrier_id"):
            batch_op.drop_index(batch_op.f(f"ix_carrier_events_{column}"))
    op.drop_table("carrier_events")
    op.drop_table("carriers")
