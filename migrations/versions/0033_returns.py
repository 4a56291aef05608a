"""Returns after delivery: return requests with the customer's photos, and the shop's return window

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01 02:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

REASONS = "reason IN ('damaged', 'wrong_item', 'not_as_described', 'other')"
STATUSES = "status IN ('requested', 'approved', 'rejected', 'received', 'refunded', 'sent_to_person')"


def upgrade():
    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False, server_default="other"),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="requested"),
        sa.Column("staff_note", sa.String(500), nullable=False, server_default=""),
        sa.Column("refund_minor", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(REASONS, name="reason_known"),
        sa.CheckConstraint(STATUSES, name="status_known"),
    )
    op.create_index("ix_return_requests_order_id", "return_requests", ["order_id"])
    op.create_index("ix_return_requests_status_created", "return_requests", ["status", "created_at", "id"])
    op.create_table(
        "return_photos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("return_request_id", sa.Integer(), sa.ForeignKey("return_requests.id"), nullable=False),
        sa.Column("media_file_id", sa.Integer(), sa.ForeignKey("media_files.id"), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_return_photos_return_request_id", "return_photos", ["return_request_id"])
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(sa.Column("return_window_days", sa.Integer(), nullable=False, server_default="7"))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("return_window_days")
    op.drop_index("ix_return_photos_return_request_id", table_name="return_photos")
    op.drop_table("return_photos")
    op.drop_index("ix_return_requests_status_created", table_name="return_requests")
    op.drop_index("ix_return_requests_order_id", table_name="return_requests")
    op.drop_table("return_requests")
