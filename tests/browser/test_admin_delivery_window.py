"""Staff enter a delivery window and agent on the order page; the customer's status page shows them."""

import pytest
from playwright.sync_api import expect

from checkout.database import utcnow
from checkout.dates import local
from checkout.extensions import db
from checkout.models import Order, Variant, get_store_settings
from checkout.orders.lifecycle import OrderStatus, transition
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, make_order

pytestmark = pytest.mark.browser


def seed_shipped_order():
    seed_test_shop()
    get_store_settings().time_zone = "Asia/Kolkata"
    tawa = db.session.query(Variant).filter_by(sku="TAW-0").one()
    order = make_order([(tawa, 1)], details=customer(name="Asha Kumar", phone="+919876543210"))
    for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED):
        transition(order, status, actor="Meera")
    db.session.commit()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_staff_enter_a_delivery_window_and_agent_and_the_status_page_shows_them(serve_app, new_context):
    server = serve_app(seed_shipped_order)
    with server.database() as session:
        order = session.query(Order).one()
        token, reference = order.status_token, order.reference
    page = new_context(server).new_page()

    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Orders").first).to_be_visible()
    page.goto(f"/admin/orders/{reference}")
    page.wait_for_load_state("load")

    today = local(utcnow(), "Asia/Kolkata").date().isoformat()
    page.get_by_label("Delivery window: day").fill(today)
    page.get_by_label("Window from").fill("14:00")
    page.get_by_label("Window until").fill("17:00")
    page.get_by_label("Delivery agent", exact=True).fill("Ravi Kumar")
    page.get_by_label("Delivery agent's phone").fill("98123 45678")
    page.get_by_role("button", name="Save fulfilment").click()
    expect(page.get_by_role("status")).to_contain_text("Fulfilment details saved")
    expect(page.get_by_label("Delivery agent's phone")).to_have_value("+919812345678")

    page.goto(f"/o/{token}")
    expect(page.get_by_role("heading", name="Your parcel")).to_be_visible()
    expect(page.locator("#delivery-window")).to_have_text("today 2:00 pm–5:00 pm")
    expect(page.locator("#delivery-agent")).to_contain_text("Ravi Kumar")
    expect(page.get_by_role("link", name="+919812345678")).to_have_attribute("href", "tel:+919812345678")

    # A wrong phone is explained next to the field and changes nothing.
    page.goto(f"/admin/orders/{reference}")
    page.wait_for_load_state("load")
    page.get_by_label("Delivery agent's phone").fill("12")
    page.get_by_role("button", name="Save fulfilment").click()
    expect(page.get_by_text("Delivery agent's phone: ").first).to_be_visible()
    page.goto(f"/o/{token}")
    expect(page.locator("#delivery-agent")).to_contain_text("+919812345678")
