"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from checkout import create_app
from checkout.cli import enable_migrations
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
    enable_migrations(app)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": include_in_autogenerate})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        searched = ("orders", "messages", "conversations")  # the desk's and the inbox's search
        indexes = {index["name"] for table in searched for index in inspect(db.engine).get_indexes(table)}
        if ON_POSTGRES:  # phone, name and message text search use trigram indexes there
            assert indexes >= POSTGRES_ONLY_INDEXES
            with db.engine.connect() as connection:  # 0035: no pending list for a search to read through
                settings = connection.execute(
                    text("SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ix_orders%trgm'")
                ).all()
            assert len(settings) == 4 and all(options == ["fastupdate=off"] for _, options in settings)
        else:
            assert not any(name.endswith("_trgm") for name in indexes)
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_0012_writes_opening_balances_so_on_hand_equals_the_ledger(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    enable_migrations(app)
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO products (id, name, slug, description, sku, image_url, status, created_at) "
                    "VALUES (1, 'Kurta', 'kurta', '', 'K', '', 'active', CURRENT_TIMESTAMP)"
                )
            )
            for variant_id, on_hand in ((1, 9), (2, 4), (3, 0)):  # 1 sold 6 unrecorded; 2 in step; 3 never stocked
                connection.execute(
                    text(
                        "INSERT INTO variants (id, product_id, sku, options, price_minor, stock_on_hand, position) "
                        f"VALUES ({variant_id}, 1, 'K-{variant_id}', '{{}}', 100, {on_hand}, 0)"
                    )
                )
            for variant_id, delta in ((1, 15), (2, 4)):
                connection.execute(
                    text(
                        "INSERT INTO stock_movements (variant_id, delta, stock_after, reason, staff_name, created_at) "
                        f"VALUES ({variant_id}, {delta}, {delta}, 'Opening stock', '', CURRENT_TIMESTAMP)"
                    )
                )
        upgrade(revision="0012")
        with db.engine.connect() as connection:
            added = connection.execute(
                text("SELECT variant_id, delta, stock_after FROM stock_movements WHERE reason LIKE 'Opening balance%'")
            ).all()
            sums = dict(connection.execute(text("SELECT variant_id, SUM(delta) FROM stock_movements GROUP BY 1")).all())
        assert [tuple(row) for row in added] == [(1, -6, 9)]
        assert sums == {1: 9, 2: 4}
        downgrade(revision="base")
        db.engine.dispose()
