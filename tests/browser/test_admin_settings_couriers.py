"""The owner adds Shiprocket in Settings → Couriers in a real browser: a bad name is named, then the secret is
shown once; the courier's first scan (posted with it) appears in the recent events."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Carrier
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop
from tests.carriers.couriers import shiprocket_body

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_the_owner_adds_shiprocket_and_sees_its_first_scan(serve_app, new_context):
    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Couriers").click()
    expect(page.get_by_role("heading", name="Couriers", exact=True)).to_be_visible()

    page.get_by_label("Name in the address").fill("Ship Rocket")
    page.get_by_label("Courier", exact=True).select_option(label="Shiprocket")
    page.get_by_role("button", name="Add courier").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.get_by_text("Lower-case letters, digits and dashes, at most 40")).to_be_visible()

    page.get_by_label("Name in the address").fill("shiprocket")
    page.get_by_role("button", name="Add courier").click()
    expect(page.get_by_role("status")).to_contain_text("not shown again")
    secret = page.get_by_role("textbox", name="Secret", exact=True).input_value()
    with server.database() as session:
        assert session.scalar(select(Carrier.secret).where(Carrier.name == "shiprocket")) == secret

    scan = urllib.request.Request(
        f"{server.url}/webhooks/carriers/shiprocket",
        data=json.dumps(shiprocket_body("PICKED UP", awb="SR-NOT-OURS")).encode(),
        headers={"x-api-key": secret, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(scan, timeout=10) as answer:
        assert json.load(answer)["outcome"] == "unknown_tracking"

    page.get_by_role("link", name="← Settings").click()
    page.get_by_role("link", name="Couriers").click()
    expect(page.get_by_role("cell", name="SR-NOT-OURS")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(page.get_by_role("textbox", name="Secret", exact=True)).to_have_count(0)
