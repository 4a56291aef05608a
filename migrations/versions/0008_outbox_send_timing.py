"""outbox send timing: when each item was last tried, and a done_at index

`last_attempt_at` is when the latest send of an item started. It paces one customer's messages (no send to a
number sooner than WHATSAPP_PACING_SECONDS after the previous one), and it starts the wait for Meta's status
webhook when a send is in doubt. `ix_outbox_done_at` finds the latest successful send, so a provider that
answers again after an outage is drained at once.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30 14:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_done_at", ["done_at"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_done_at")
        batch_op.drop_column("last_attempt_at")
