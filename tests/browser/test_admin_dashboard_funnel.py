"""The dashboard funnel in a real browser: a shopper's hand-off shows in it, and the source filter narrows it."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Order, Product
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, make_journey_cart, make_order

pytestmark = pytest.mark.browser


def seed():
    """Today: a website cart taken to checkout and placed, a widget cart left alone, and a Store API order."""
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    variant = db.session.scalars(select(Product).filter_by(sku="TAW")).one().variants[0]
    placed = make_order([(variant, 1)], details=customer(name="Website Shopper"))
    make_journey_cart("website", placed.created_at, checkout_started_at=placed.created_at, order=placed)
    make_journey_cart("widget")
    make_order([(variant, 1)], details=customer(name="Api Customer"), source="api")


def count_of(table, step: str):
    """The Count cell of a step's row."""
    row = table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=step, exact=True))
    return row.get_by_role("cell").first


def test_the_funnel_counts_a_hand_off_and_filters_by_source(serve_app, new_context):
    server = serve_app(seed)
    with server.database() as session:
        token = session.scalar(select(Order.status_token).where(Order.customer_name == "Website Shopper"))
    page = new_context(server).new_page()
    page.goto(f"/o/{token}/whatsapp")  # the shopper reaches the hand-off page
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
    page.goto("/admin/dashboard")

    funnel = page.get_by_role("table", name="Funnel, last 30 days, all sources")
    expect(count_of(funnel, "Sessions with a cart")).to_have_text("2")
    expect(count_of(funnel, "Order placed")).to_have_text("2")  # the API's order counts from here
    expect(count_of(funnel, "Hand-off opened")).to_have_text("1")
    hand_off = funnel.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Hand-off opened"))
    expect(hand_off.get_by_role("cell").nth(1)).to_have_text("50%")

    page.get_by_role("list", name="Source").get_by_role("link", name="Widget").click()
    expect(page.get_by_role("heading", name="Funnel: last 30 days, Widget")).to_be_visible()
    widget = page.get_by_role("table", name="Funnel, last 30 days, Widget")
    expect(count_of(widget, "Sessions with a cart")).to_have_text("1")
    expect(count_of(widget, "Order placed")).to_have_text("0")

    page.get_by_role("list", name="Period").get_by_role("link", name="Today").click()  # the source stays
    expect(page.get_by_role("heading", name="Funnel: today, Widget")).to_be_visible()
    expect(page.get_by_role("list", name="Source").get_by_role("link", name="Widget")).to_have_attribute(
        "aria-current", "true"
    )

    page.get_by_role("list", name="Source").get_by_role("link", name="API").click()
    api = page.get_by_role("table", name="Funnel, today, API")
    expect(count_of(api, "Sessions with a cart")).to_have_text("0")
    expect(count_of(api, "Order placed")).to_have_text("1")

    page.get_by_text("Per day", exact=True).click()
    per_day = page.get_by_role("table", name=re.compile(r"^Funnel per day, today, API"))
    expect(per_day).to_be_visible()
    expect(per_day.get_by_role("row")).to_have_count(2)  # the heading and today
