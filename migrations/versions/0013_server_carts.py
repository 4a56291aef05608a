"""carts on the server, shared by every channel

Carts and their lines move from the session cookie into the database, found by an unguessable token;
store_settings.cart_expiry_days says how long an idle cart is kept (30 days unless the shop says otherwise).
The old cart_starts table goes: nothing ever wrote it, and "Carts started" now counts carts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "carts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("customer_name", sa.String(length=80), nullable=False),
        sa.Column("checkout_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("coupon_code", sa.String(length=40), nullable=False),
        sa.Column("recovery_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('website', 'widget', 'api', 'whatsapp')", name=op.f("ck_carts_channel_known")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_carts_order_id_orders"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("token", name=op.f("uq_carts_token")),
    )
    op.create_index("ix_carts_updated_at", "carts", ["updated_at"])
    op.create_index(op.f("ix_carts_created_at"), "carts", ["created_at"])
    op.create_index(op.f("ix_carts_phone"), "carts", ["phone"])
    op.create_index(op.f("ix_carts_order_id"), "carts", ["order_id"])
    op.create_table(
        "cart_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("seen_price_minor", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_lines_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["variant_id"], ["variants.id"], name=op.f("fk_cart_lines_variant_id_variants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_lines")),
        sa.UniqueConstraint("cart_id", "variant_id", name="uq_cart_lines_cart_variant"),
    )
    op.create_index(op.f("ix_cart_lines_variant_id"), "cart_lines", ["variant_id"])
    with op.batch_alter_table("store_settings") as batch:
        batch.add_column(sa.Column("cart_expiry_days", sa.Integer(), nullable=False, server_default="30"))
    with op.batch_alter_table("cart_starts") as batch:
        batch.drop_index(batch.f("ix_cart_starts_started_at"))
    op.drop_table("cart_starts")


def downgrade():
    op.create_table(
        "cart_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_starts")),
    )
    with op.batch_alter_table("cart_starts") as batch:
        batch.create_index(batch.f("ix_cart_starts_started_at"), ["started_at"], unique=False)
    with op.batch_alter_table("store_settings") as batch:
        batch.drop_column("cart_expiry_days")
    op.drop_table("cart_lines")
    op.drop_table("carts")
