"""Test fixtures: a fresh app and an empty database for every test, on SQLite or PostgreSQL.

Set DATABASE_URL to a PostgreSQL URL to run the suite there; otherwise each test gets its own
SQLite file. Nothing is mocked: the tests talk to a real database.
"""

import os

os.environ.setdefault("CHATOUT_QUEUE", "memory")  # jobs wait in memory; tests run the worker functions themselves

import psycopg  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from checkout import create_app  # noqa: E402
from checkout.config import database_url  # noqa: E402
from checkout.extensions import db  # noqa: E402


def _database_of_this_test_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`test_gw0`, `test_gw1`…).

    Workers empty every table after each test, so two of them on one database would wipe each other's rows.
    The database is made on first use; processes a test starts inherit its URL through DATABASE_URL.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith(("postgres://", "postgresql")):
        return url
    parsed = make_url(url)
    name = f"{parsed.database or 'test'}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    own = parsed.set(database=name).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = own
    return own


POSTGRES_URL = _database_of_this_test_worker(os.environ.get("DATABASE_URL", ""))
ON_POSTGRES = POSTGRES_URL.startswith(("postgres://", "postgresql"))


def _app_for(url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        # Each test app counts its own rate limits, whatever REDIS_URL a developer's .env sets.
        "RATELIMIT_STORAGE_URI": "memory://",
        # A thousand rounds, not 600,000: hundreds of staff accounts are made and signed in here.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _postgres_schema():
    """On PostgreSQL, build the schema once per run; tests then empty the tables after themselves."""
    if not ON_POSTGRES:
        yield None
        return
    app = _app_for(database_url(POSTGRES_URL, None))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app.config["SQLALCHEMY_DATABASE_URI"]


def _empty_all_tables():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def make_app(tmp_path, _postgres_schema):
    """Build an app on this test's database; extra config can be given."""
    url = _postgres_schema or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    built = []

    def factory(**overrides):
        app = _app_for(url, **overrides)
        if not built:
            with app.app_context():
                db.create_all()
        built.append(app)
        return app

    yield factory
    if built and ON_POSTGRES:
        with built[0].app_context():
            _empty_all_tables()
    for app in built:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()
