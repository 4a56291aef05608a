"""stock ledger opening balances, and the kept admin preview widget key

On hand becomes the sum of the ledger for variants already sold from:

Until now confirmations and cancellations changed stock on hand without a ledger row, so on hand and the
ledger's sum drifted apart. One "Opening balance" row per such variant brings the ledger to what is on the
shelf; from here on every change of on hand writes its row.

store_settings.preview_widget_key keeps the one widget key the admin's preview uses, so visits reuse it.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-30 15:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REASON = "Opening balance (sales before the ledger recorded them)"

variants = sa.table("variants", sa.column("id", sa.Integer), sa.column("stock_on_hand", sa.Integer))
movements = sa.table(
    "stock_movements",
    sa.column("variant_id", sa.Integer),
    sa.column("delta", sa.Integer),
    sa.column("stock_after", sa.Integer),
    sa.column("reason", sa.String),
    sa.column("staff_name", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table("store_settings") as batch:
        batch.add_column(sa.Column("preview_widget_key", sa.String(length=100), server_default="", nullable=False))
    ledger = (
        sa.select(movements.c.variant_id, sa.func.sum(movements.c.delta).label("total"))
        .group_by(movements.c.variant_id)
        .subquery()
    )
    total = sa.func.coalesce(ledger.c.total, 0)
    out_of_step = (
        sa.select(
            variants.c.id,
            variants.c.stock_on_hand - total,
            variants.c.stock_on_hand,
            sa.literal(REASON),
            sa.literal(""),
            sa.func.current_timestamp(),
        )
        .select_from(variants.outerjoin(ledger, ledger.c.variant_id == variants.c.id))
        .where(variants.c.stock_on_hand != total)
    )
    op.execute(
        movements.insert().from_select(
            ["variant_id", "delta", "stock_after", "reason", "staff_name", "created_at"], out_of_step
        )
    )


def downgrade():
    op.execute(movements.delete().where(movements.c.reason == REASON))
    with op.batch_alter_table("store_settings") as batch:
        batch.drop_column("preview_widget_key")
