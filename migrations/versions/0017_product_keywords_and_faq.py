"""product keywords and the shop's FAQ

products.keywords holds the other words customers use for a product (comma-separated), so a WhatsApp
message finds it; faq_entries holds the shop's answers, each recognised by its keywords.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("keywords", sa.String(length=500), nullable=False, server_default=""))
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=200), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
    )


def downgrade():
    op.drop_table("faq_entries")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("keywords")
