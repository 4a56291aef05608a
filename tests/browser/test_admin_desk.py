"""Staff in a real browser: sign in, find an order, confirm it, ship it with tracking — all without a page reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, make_order

pytestmark = pytest.mark.browser


def seed_shop_with_orders():
    seed_test_shop()
    from checkout.extensions import db
    from checkout.models import Variant

    tawa = db.session.query(Variant).filter_by(sku="TAW-0").one()
    make_order([(tawa, 1)], details=customer(name="Asha Kumar", phone="+919876543210"))
    make_order([(tawa, 2)], details=customer(name="Wanjiru Njeri", phone="+254712345678"))
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_staff_confirms_and_ships_an_order_through_htmx(serve_app, new_context):
    server = serve_app(seed_shop_with_orders)
    page = new_context(server).new_page()

    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Orders").first.click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.wait_for_load_state("load")  # htmx listens to the search box only once its script has run
    page.evaluate("window.__noReload = 1")

    page.get_by_label("Search").fill("wanjiru")
    orders = page.get_by_role("table", name="Orders")
    expect(orders.get_by_role("row")).to_have_count(2)  # header + the one match
    expect(orders).to_contain_text("Wanjiru Njeri")
    expect(page).to_have_url(re.compile(r"q=wanjiru"))

    orders.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting for confirmation")
    page.get_by_role("button", name="Mark confirmed").click()
    expect(page.get_by_role("status")).to_contain_text("is now confirmed")
    page.get_by_role("button", name="Mark being prepared").click()
    expect(page.locator("#order-status")).to_have_text("Being prepared")

    page.get_by_label("Carrier", exact=True).first.fill("Delhivery")
    page.get_by_label("Tracking number").first.fill("DL99887766")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator("#order-status")).to_have_text("Shipped")
    timeline = page.get_by_role("list").filter(has_text="Being prepared → Shipped")
    expect(timeline).to_contain_text("tracking number: DL99887766")
    expect(timeline).to_contain_text("Meera")

    assert page.evaluate("window.__noReload") == 1, "the page was reloaded"
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()  # boosted pages keep the whole layout
    with server.database() as session:
        from checkout.models import Order

        shipped = session.query(Order).filter_by(customer_name="Wanjiru Njeri").one()
        assert (shipped.status, shipped.tracking_number) == ("shipped", "DL99887766")
