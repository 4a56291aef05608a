"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from checkout import create_app
from checkout.database import POSTGRES_ONLY_INDEXES, include_in_autogenerate
from checkout.extensions import db
from tests.conftest import ON_POSTGRES, POSTGRES_URL


@pytest.fixture
def empty_database_url(tmp_path):
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    from checkout.config import database_url

    base = database_url(POSTGRES_URL, None)
    schema = f"migration_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": include_in_autogenerate})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        order_indexes = {index["name"] for index in inspect(db.engine).get_indexes("orders")}
        if ON_POSTGRES:  # phone and name search use trigram indexes there
            assert order_indexes >= POSTGRES_ONLY_INDEXES
        else:
            assert not any(name.endswith("_trgm") for name in order_indexes)
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
