"""payment reminders: spaced retries and the one reminder per request, the unpaid limit, leftover provider events

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 23:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

REQUEST_COLUMNS = ("next_attempt_at", "reminded_at", "unpaid_limit_at")


def upgrade():
    with op.batch_alter_table("payment_requests") as batch_op:
        for name in REQUEST_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    # A request that failed before this revision was retried by every sweep: it is due at once, as it was.
    op.execute(
        "UPDATE payment_requests SET next_attempt_at = created_at WHERE status = 'failed' AND attempts < 6"
    )
    with op.batch_alter_table("payment_events") as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.add_column(
            sa.Column("payment_reminder_after_hours", sa.Integer(), nullable=False, server_default="24")
        )
        batch_op.add_column(sa.Column("unpaid_limit_hours", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("unpaid_action", sa.String(10), nullable=False, server_default="flag"))


def downgrade():
    with op.batch_alter_table("store_settings") as batch_op:
        batch_op.drop_column("unpaid_action")
        batch_op.drop_column("unpaid_limit_hours")
        batch_op.drop_column("payment_reminder_after_hours")
    with op.batch_alter_table("payment_events") as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("payment_requests") as batch_op:
        for name in reversed(REQUEST_COLUMNS):
            batch_op.drop_column(name)
