"""order search: trigram indexes for phone and name search (PostgreSQL only)

The order desk searches `customer_phone LIKE '%digits%'` and `lower(customer_name) LIKE '%text%'`. No
B-tree serves a leading wildcard, so with a long history PostgreSQL reads every order; pg_trgm's GIN
indexes answer both. SQLite shops are small and have no pg_trgm: nothing happens there.

The indexes are not in the models (they cannot be described portably); `checkout.database.
POSTGRES_ONLY_INDEXES` keeps autogenerate from proposing to drop them. On a large live table, create
them by hand with CREATE INDEX CONCURRENTLY before running this migration (it then finds them).

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
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trigram_schema(bind)
    if schema is None:
        return
    operators = f"{schema}.gin_trgm_ops"
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_orders_customer_phone_trgm ON orders USING gin (customer_phone {operators})"
    )
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_orders_customer_name_trgm ON orders USING gin (lower(customer_name) {operators})"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_orders_customer_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_orders_customer_phone_trgm")
