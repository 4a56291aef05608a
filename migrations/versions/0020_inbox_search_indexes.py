"""trigram indexes for the inbox search on PostgreSQL: message text, customer name, phone digits

The inbox finds a conversation by any word of its messages, by the customer's name or by part of the
phone number; with 100,000 conversations a scan of every message took half a second. pg_trgm's GIN
indexes serve ILIKE '%…%' directly. SQLite has no pg_trgm: search works there without them, only slower.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 14:00:00

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TRIGRAM_INDEXES = {
    "ix_messages_body_text_trgm": ("messages", "body_text"),
    "ix_conversations_name_trgm": ("conversations", "name"),
    "ix_conversations_phone_trgm": ("conversations", "phone"),
}


def _trigram_schema(bind) -> str | None:
    """The schema holding pg_trgm, creating the extension if this role may; None when it is unavailable."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm is not available (%s); inbox search works without its indexes, only slower", error.orig)
    return bind.scalar(sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trigram_schema(bind)
    if schema is None:
        return
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} {schema}.gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in reversed(TRIGRAM_INDEXES):
            op.execute(f"DROP INDEX IF EXISTS {name}")
