"""Database plumbing shared by every model: UTC timestamps, SQLite transaction behaviour, locking, and the one
way a use case commits its work or rolls all of it back."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from checkout.extensions import db

# Trigram search indexes that only PostgreSQL has, made by migration 0005 rather than by the models.
POSTGRES_ONLY_INDEXES = frozenset(
    {
        "ix_orders_customer_phone_trgm",
        "ix_orders_customer_name_trgm",
        "ix_orders_open_customer_phone_trgm",
        "ix_orders_open_customer_name_trgm",
        "ix_messages_body_text_trgm",
        "ix_conversations_name_trgm",
        "ix_conversations_phone_trgm",
    }
)


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: leave the PostgreSQL-only indexes to their migration."""
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


@contextmanager
def transaction(*, keep_loaded: bool = False) -> Iterator[None]:
    """Commit what the block wrote; if it raises, roll all of it back (locks included) and let the error through.

    A use case runs its checks and writes inside one `with transaction():`, so a refusal never leaves half
    a change in the session. Callers that turn a database error into a domain one catch it outside the block.

    Called inside a savepoint (a webhook's message being handled: `begin_nested`), the use case joins the
    caller's unit of work instead: its writes go in a savepoint of their own, rolled back alone if it raises,
    and committed with everything else by whoever owns the outer transaction. Placing an order from the chat
    is the same function as on the website, and a worker's half-handled webhook is never committed.

    `keep_loaded`: the commit leaves what the session holds as it is instead of expiring it, so rows the use
    case just wrote are not read back by the page that answers it (a checkout's hand-off link).
    """
    if db.session().in_nested_transaction():
        with db.session.begin_nested():
            yield
        return
    session = db.session()
    try:
        yield
        session.expire_on_commit = not keep_loaded
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
    except BaseException:
        db.session.rollback()
        raise


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


class seconds_between(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """SQL for the seconds from `earlier` to `later` (two UTCDateTime columns): seconds_between(later, earlier).

    PostgreSQL subtracts timestamps; SQLite stores them as text, which julianday() reads (to the millisecond).
    """

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


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
