"""The flask commands a shop owner runs: database, demo store, first owner, staff accounts."""

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import Product, StaffUser


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_seed_demo_fills_an_empty_store_once(app, cli):
    assert "Demo store seeded" in cli.invoke(args=["seed-demo", "--if-empty"]).output
    assert "already has products" in cli.invoke(args=["seed-demo", "--if-empty"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count(Product.id))) == 22
        assert db.session.scalar(select(func.count(Product.id)).where(Product.status == "active")) == 21
        assert db.session.scalar(select(func.count(Product.id)).where(Product.kind == "service")) == 1


def test_ensure_owner_prints_a_login_once(app, cli):
    first = cli.invoke(args=["ensure-owner"]).output
    assert "owner@example.com" in first and "password:" in first
    assert cli.invoke(args=["ensure-owner"]).output == ""
    with app.app_context():
        owner = db.session.scalars(select(StaffUser)).one()
        password = first.split("password:")[1].split()[0]
        assert owner.role == "owner" and owner.check_password(password)


def test_create_user_follows_the_staff_rules(app, cli):
    ok = cli.invoke(
        args=["create-user", "--email", "Ravi@Shop.example.com", "--role", "fulfilment"],
        input="long enough pw\nlong enough pw\n",
    )
    assert "Created fulfilment ravi@shop.example.com" in ok.output
    again = cli.invoke(
        args=["create-user", "--email", "ravi@shop.example.com"], input="long enough pw\nlong enough pw\n"
    )
    assert again.exit_code != 0
    short = cli.invoke(args=["create-user", "--email", "mina@shop.example.com"], input="short\nshort\n")
    assert short.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id))) == 1


def test_ensure_owner_prints_the_address_the_admin_is_served_at(app, cli):
    output = cli.invoke(args=["ensure-owner", "--base-url", "http://127.0.0.1:8123/"]).output
    assert "  http://127.0.0.1:8123/admin/login\n" in output and ":5000" not in output


def test_ensure_owner_falls_back_to_the_public_base_url(make_app):
    app = make_app(PUBLIC_BASE_URL="https://shop.example.com")
    output = app.test_cli_runner().invoke(args=["ensure-owner"]).output
    assert "  https://shop.example.com/admin/login\n" in output
