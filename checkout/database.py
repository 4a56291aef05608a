"""Database plumbing shared by every model: UTC timestamps, SQLite transaction behaviour, locking."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

# Trigram search indexes that only PostgreSQL has, made by migration 0005 rather than by the models.
POSTGRES_ONLY_INDEXES = frozenset(
    {
        "ix_orders_customer_phone_trgm",
        "ix_orders_customer_name_trgm",
        "ix_orders_open_customer_phone_trgm",
        "ix_orders_open_customer_name_trgm",
    }
)


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: leave the PostgreSQL-only indexes to their migration."""
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way in and out, on SQLite (which stores naive values) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave like the server database where it matters for correctness.

    pysqlite starts transactions lazily and only before writes, so two checkouts could both read
    the same stock figure. Every transaction here begins IMMEDIATE instead: one writer at a time,
    reads never stale. WAL keeps readers of other connections unblocked. Foreign keys are enforced.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
