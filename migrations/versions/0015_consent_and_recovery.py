"""consent and recovery: recorded consent to WhatsApp reminders, and the settings of the reminders

A consents table (phone, where and when consent was given with the exact words shown, and how it was
withdrawn); store_settings gains the checkbox's wording and whether it starts ticked, the cart recovery
delay and quiet hours; orders.recovered_by names the reminder or cart message that won an order back.
The pending-order reminder now defaults to one hour for new shops; a shop that has a value keeps it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DEFAULT_CONSENT_WORDING = "Send me order updates and reminders on WhatsApp"


def upgrade():
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=16), nullable=False),
        sa.Column("withdrawal_note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "source IN ('website', 'widget', 'api', 'whatsapp')", name=op.f("ck_consents_source_known")
        ),
        sa.CheckConstraint(
            "withdrawn_by IN ('', 'stop_message', 'staff')", name=op.f("ck_consents_withdrawn_by_known")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_consents_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_phone"), "consents", ["phone"])
    op.create_index(op.f("ix_consents_order_id"), "consents", ["order_id"])
    with op.batch_alter_table("store_settings") as batch:
        batch.add_column(
            sa.Column(
                "consent_wording", sa.String(length=300), nullable=False, server_default=DEFAULT_CONSENT_WORDING
            )
        )
        batch.add_column(
            sa.Column("consent_ticked_by_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("cart_recovery_hours", sa.Integer(), nullable=False, server_default="24"))
        batch.add_column(sa.Column("quiet_hours_start", sa.String(length=5), nullable=False, server_default=""))
        batch.add_column(sa.Column("quiet_hours_end", sa.String(length=5), nullable=False, server_default=""))
        batch.alter_column("reminder_hours", existing_type=sa.Integer(), server_default=sa.text("'1'"))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("recovered_by", sa.String(length=40), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("recovered_by")
    with op.batch_alter_table("store_settings") as batch:
        batch.alter_column("reminder_hours", existing_type=sa.Integer(), server_default=sa.text("'6'"))
        batch.drop_column("quiet_hours_end")
        batch.drop_column("quiet_hours_start")
        batch.drop_column("cart_recovery_hours")
        batch.drop_column("consent_ticked_by_default")
        batch.drop_column("consent_wording")
    op.drop_table("consents")
