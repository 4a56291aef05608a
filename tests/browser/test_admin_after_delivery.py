"""After delivery in a real browser: the owner turns the follow-up on in Settings, and the dashboard's
after-delivery section shows the rating, its distribution and the customer's comment."""

import pytest
from playwright.sync_api import expect

from checkout.extensions import db
from checkout.models import OrderRating, Product
from checkout.orders.lifecycle import OrderStatus, transition
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import make_order

pytestmark = pytest.mark.browser
S = OrderStatus


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    variant = db.session.query(Product).filter_by(sku="TAW").one().variants[0]
    order = make_order([(variant, 1)])
    for status in (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED):
        transition(order, status, actor="staff")
    db.session.add(OrderRating(order_id=order.id, score=5, source="follow_up", comment="Heavy, well seasoned tawa"))
    db.session.commit()


def sign_in(page):
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()


def test_the_owner_turns_the_follow_up_on_and_reads_ratings_on_the_dashboard(serve_app, new_context):
    server = serve_app(seed)
    page = new_context(server).new_page()
    sign_in(page)

    page.goto("/admin/settings")
    section = page.get_by_role("region", name="After delivery")
    expect(section.get_by_label("Follow-up after delivery")).to_have_value("0")  # off by default
    section.get_by_label("Follow-up after delivery").select_option(label="5 days after delivery")
    section.get_by_role("button", name="Save after delivery").click()
    expect(page.get_by_text("After delivery saved.")).to_be_visible()
    expect(page.get_by_role("region", name="After delivery").get_by_label("Follow-up after delivery")).to_have_value(
        "5"
    )

    page.goto("/admin/dashboard")
    after = page.get_by_role("region", name="After delivery, last 30 days")
    expect(after.get_by_label("Average rating")).to_have_text("5.0 / 5")
    expect(after.get_by_label("Delivered at the first attempt")).to_have_text("100%")
    distribution = after.get_by_role("table", name="Ratings, last 30 days")
    expect(distribution.get_by_role("row", name="5 / 5 1 100%")).to_be_visible()
    expect(after.get_by_role("list", name="Latest comments")).to_contain_text("“Heavy, well seasoned tawa”")
