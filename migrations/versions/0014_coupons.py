"""discount codes: coupons, their redemptions, and the discount on orders

Coupons (percentage, fixed amount or free delivery, with minimum, dates, limits and scope) and one
redemption row per placed order that used one; orders keep the discount they got and the code.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("minimum_subtotal_minor", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("category_ids", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('percent', 'fixed', 'free_delivery')", name=op.f("ck_coupons_kind_known")),
        sa.CheckConstraint("code = upper(code)", name=op.f("ck_coupons_code_upper_case")),
        sa.CheckConstraint("value >= 0", name=op.f("ck_coupons_value_not_negative")),
        sa.CheckConstraint("kind != 'percent' OR value BETWEEN 1 AND 100", name=op.f("ck_coupons_percent_in_range")),
        sa.CheckConstraint("minimum_subtotal_minor >= 0", name=op.f("ck_coupons_minimum_not_negative")),
        sa.CheckConstraint(
            "usage_limit IS NULL OR usage_limit > 0", name=op.f("ck_coupons_usage_limit_positive")
        ),
        sa.CheckConstraint(
            "per_customer_limit IS NULL OR per_customer_limit > 0",
            name=op.f("ck_coupons_per_customer_limit_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("discount_minor", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("discount_minor >= 0", name=op.f("ck_coupon_redemptions_discount_not_negative")),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_coupon_redemptions_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_coupon_redemptions_order_id")),
    )
    op.create_index("ix_coupon_redemptions_coupon_phone", "coupon_redemptions", ["coupon_id", "phone"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("discount_minor", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("delivery_discount_minor", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("coupon_code", sa.String(length=40), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("coupon_code")
        batch.drop_column("delivery_discount_minor")
        batch.drop_column("discount_minor")
    op.drop_index("ix_coupon_redemptions_coupon_phone", table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_table("coupons")
