"""The owner sets up UPI payment requests in a real browser: a missing UPI ID is named, then it saves."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import StoreSettings
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_the_owner_chooses_upi_and_fixes_the_missing_upi_id(serve_app, new_context):
    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payments", exact=True)).to_be_visible()

    page.get_by_label("Ask customers to pay with").select_option(label="UPI (link and QR code)")
    page.get_by_label("When").select_option(label="When staff confirm the order")
    page.get_by_label("Name customers see").fill("Test Shop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.get_by_text("UPI needs the shop's UPI ID.")).to_be_visible()

    page.get_by_label("UPI ID").fill("testshop@okaxis")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Payment settings saved.")).to_be_visible()
    with server.database() as session:
        settings = session.scalar(select(StoreSettings))
        assert (settings.payment_provider, settings.payment_request_when, settings.upi_payee_address) == (
            "upi",
            "staff_confirmed",
            "testshop@okaxis",
        )
