"""payment requests: the payment_requests table and the store's payment provider settings

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SETTINGS_COLUMNS = (
    ("payment_provider", 20, ""),
    ("payment_request_when", 20, "on_demand"),
    ("upi_payee_address", 255, ""),
    ("upi_payee_name", 100, ""),
    ("pix_key", 77, ""),
    ("pix_merchant_name", 25, ""),
    ("pix_merchant_city", 15, ""),
)


def upgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        for name, length, default in SETTINGS_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length), nullable=False, server_default=default))
    op.create_table(
        "payment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_requests")),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", name=op.f("fk_payment_requests_order_id_orders")), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_reference", sa.String(120), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("qr_payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=False),
        sa.UniqueConstraint("provider", "provider_reference", name=op.f("uq_payment_requests_provider")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_requests_amount_positive")),
        sa.CheckConstraint("status IN ('requested', 'paid', 'expired', 'failed')", name=op.f("ck_payment_requests_status_known")),
    )
    op.create_index(op.f("ix_payment_requests_order_id"), "payment_requests", ["order_id"])


def downgrade():
    op.drop_index(op.f("ix_payment_requests_order_id"), table_name="payment_requests")
    op.drop_table("payment_requests")
    with op.batch_alter_table("store_settings") as batch_op:
        for name, _, _ in reversed(SETTINGS_COLUMNS):
            batch_op.drop_column(name)
