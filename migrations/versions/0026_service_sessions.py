"""products.kind and duration_minutes; service_sessions: paid minutes of staff time in the chat

Revision ID: 0026
Revises: 0023
Create Date: 2026-11-30 23:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="goods"))
        batch_op.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_products_kind_known"), "kind IN ('goods', 'service')")
        batch_op.create_check_constraint(
            op.f("ck_products_duration_only_for_services"),
            "(kind = 'service' AND duration_minutes > 0) OR (kind = 'goods' AND duration_minutes IS NULL)",
        )
    op.create_table(
        "service_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_phone", sa.String(20), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_service_sessions_minutes_positive")),
        sa.CheckConstraint(
            "(started_at IS NULL) = (ends_at IS NULL)", name=op.f("ck_service_sessions_started_with_its_end")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_service_sessions_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["staff_users.id"], name=op.f("fk_service_sessions_staff_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sessions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_service_sessions_order_id")),
    )
    op.create_index("ix_service_sessions_phone", "service_sessions", ["customer_phone", "id"])


def downgrade():
    op.drop_index("ix_service_sessions_phone", table_name="service_sessions")
    op.drop_table("service_sessions")
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_constraint(op.f("ck_products_duration_only_for_services"), type_="check")
        batch_op.drop_constraint(op.f("ck_products_kind_known"), type_="check")
        batch_op.drop_column("duration_minutes")
        batch_op.drop_column("kind")
