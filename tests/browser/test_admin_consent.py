"""Staff in a real browser: the customer's consent history on the order page, and withdrawing it in place."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Consent, Order, Variant
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, give_consent, make_order

pytestmark = pytest.mark.browser


def seed_order_with_consent():
    seed_test_shop()
    tawa = db.session.scalar(select(Variant).where(Variant.sku == "TAW-0"))
    order = make_order([(tawa, 1)], details=customer(name="Asha Kumar", phone="+919876543210"))
    give_consent("+919876543210", order=order)
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_staff_see_the_consent_history_and_withdraw_it_without_a_reload(serve_app, new_context):
    server = serve_app(seed_order_with_consent)
    with server.database() as session:
        reference = session.scalar(select(Order.reference).join(Consent, Consent.order_id == Order.id))
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()  # signed in before going anywhere else
    page.goto(f"/admin/orders/{reference}")
    page.evaluate("window.__noReload = 1")

    reminders = page.get_by_role("region", name="WhatsApp reminders")
    expect(reminders).to_contain_text("The customer agreed to order updates and reminders.")
    expect(reminders).to_contain_text("Website · “Send me order updates and reminders on WhatsApp”")
    reminders.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent withdrawn")
    reminders = page.get_by_role("region", name="WhatsApp reminders")
    expect(reminders).to_contain_text("No consent: this number gets no reminders")
    expect(reminders).to_contain_text("by Meera")
    assert page.evaluate("window.__noReload") == 1, "the page was reloaded"
