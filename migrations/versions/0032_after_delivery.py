"""After delivery: order ratings, the one follow-up per order, the shop's follow-up delay

Revision ID: 0032
Revises: 0026
Create Date: 2026-12-01 02:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "order_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("customer_phone", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_order_ratings_score_in_range")),
        sa.CheckConstraint(
            "source IN ('delivered_message', 'follow_up')", name=op.f("ck_order_ratings_source_known")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_ratings_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_ratings")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_ratings_order_id")),
    )
    op.create_index("ix_order_ratings_created", "order_ratings", ["created_at", "id"])
    op.create_index(op.f("ix_order_ratings_customer_phone"), "order_ratings", ["customer_phone"])
    op.create_table(
        "delivery_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_delivery_follow_ups_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_delivery_follow_ups_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_follow_ups")),
        sa.UniqueConstraint("order_id", name=op.f("uq_delivery_follow_ups_order_id")),
    )
    op.create_index("ix_order_events_to_status_created", "order_events", ["to_status", "created_at"])
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("follow_up_after_days", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("follow_up_after_days")
    op.drop_index("ix_order_events_to_status_created", table_name="order_events")
    op.drop_table("delivery_follow_ups")
    op.drop_index(op.f("ix_order_ratings_customer_phone"), table_name="order_ratings")
    op.drop_index("ix_order_ratings_created", table_name="order_ratings")
    op.drop_table("order_ratings")
