"""order desk indexes: open orders for the tab counts; trigrams for phone and name search

With a long history the desk must not read every order: the tab counts only count open orders
(`ix_orders_open`, a partial index, on SQLite and PostgreSQL alike), and searching
`customer_phone LIKE '%digits%'` or `lower(customer_name) LIKE '%text%'`, which no B-tree serves, uses
pg_trgm's GIN indexes on PostgreSQL: over all orders for the list, over the open ones for the counts.
SQLite shops are small and have no pg_trgm: the trigram indexes are skipped there.

The trigram indexes are not in the models (they cannot be described portably);
`checkout.database.POSTGRES_ONLY_INDEXES` keeps autogenerate from proposing to drop them. On a large live
table, create them by hand with CREATE INDEX CONCURRENTLY before running this migration (it then finds
them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:10:00

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# A copy of checkout.models.orders.OPEN_STATUSES_SQL as it was when this migration was written.
OPEN_STATUSES_SQL = "status IN ('pending', 'confirmed', 'preparing', 'shipped', 'out_for_delivery', 'ready_for_pickup')"

TRIGRAM_INDEXES = {
    "ix_orders_customer_phone_trgm": ("customer_phone", ""),
    "ix_orders_customer_name_trgm": ("lower(customer_name)", ""),
    "ix_orders_open_customer_phone_trgm": ("customer_phone", OPEN_STATUSES_SQL),
    "ix_orders_open_customer_name_trgm": ("lower(customer_name)", OPEN_STATUSES_SQL),
}


def _trigram_schema(bind) -> str | None:
    """The schema holding pg_trgm, creating the extension if this role may; None when it is unavailable."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm is not available (%s); order search works without its indexes, only slower", error.orig)
        return None
    return bind.scalar(sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"))


def upgrade():
    op.create_index(
        "ix_orders_open",
        "orders",
        ["status", "source", "assigned_to_id", "created_at"],
        unique=False,
        postgresql_where=sa.text(OPEN_STATUSES_SQL),
        sqlite_where=sa.text(OPEN_STATUSES_SQL),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trigram_schema(bind)
    if schema is None:
        return
    for name, (expression, where) in TRIGRAM_INDEXES.items():
        condition = f" WHERE {where}" if where else ""
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON orders USING gin ({expression} {schema}.gin_trgm_ops){condition}"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in reversed(TRIGRAM_INDEXES):
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_orders_open", table_name="orders")
