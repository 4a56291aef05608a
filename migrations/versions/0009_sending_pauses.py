"""sending pauses: WhatsApp sending stops for the whole shop while Meta refuses the account

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-30 14:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sending_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("open_slot", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=300), nullable=False),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_pauses")),
        sa.UniqueConstraint("open_slot", name=op.f("uq_sending_pauses_open_slot")),
    )


def downgrade():
    op.drop_table("sending_pauses")
