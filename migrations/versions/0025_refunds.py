"""Refunds: orders.amount_refunded_minor, payments.refund_of_id, the "partly refunded" state and the desk's
payment filter index

Revision ID: 0025
Revises: 0023
Create Date: 2026-11-30 23:30:00

Refunds recorded before this revision are summed into amount_refunded_minor, and each order's payment_status is
worked out again by the rule of checkout/orders/payment_states.py (written out in SQL here, as it stood when
this migration was written), so old orders show the same states new ones will.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0030"
branch_labels = None
depends_on = None

RECOMPUTE_PAYMENT_STATUS = """
UPDATE orders SET payment_status = CASE
    WHEN amount_paid_minor <= 0 AND amount_refunded_minor > 0 THEN 'refunded'
    WHEN amount_paid_minor <= 0 THEN 'unpaid'
    WHEN amount_paid_minor >= total_minor THEN 'paid'
    WHEN amount_paid_minor + amount_refunded_minor < total_minor THEN 'partially_paid'
    ELSE 'partly_refunded'
END
WHERE amount_refunded_minor > 0
"""


def upgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("amount_refunded_minor", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_orders_payment_status_created", ["payment_status", "created_at", "id"])
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("refund_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_payments_refund_of_id_payments"), "payments", ["refund_of_id"], ["id"])
        batch_op.create_index(op.f("ix_payments_refund_of_id"), ["refund_of_id"])
    op.execute(
        "UPDATE orders SET amount_refunded_minor = (SELECT COALESCE(SUM(amount_minor), 0) FROM payments "
        "WHERE payments.order_id = orders.id AND payments.kind = 'refund')"
    )
    op.execute(RECOMPUTE_PAYMENT_STATUS)


def downgrade():
    op.execute("UPDATE orders SET payment_status = 'paid' WHERE payment_status = 'partly_refunded'")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index(op.f("ix_payments_refund_of_id"))
        batch_op.drop_constraint(op.f("fk_payments_refund_of_id_payments"), type_="foreignkey")
        batch_op.drop_column("refund_of_id")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_payment_status_created")
        batch_op.drop_column("amount_refunded_minor")
