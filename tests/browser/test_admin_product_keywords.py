"""A manager gives a product the words customers use for it, in a real browser, and sees them on its page."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("manager", email="manager@sunrise.example.com", name="Ravi")


def test_keywords_typed_in_the_product_form_show_on_the_product_page(serve_app, new_context):
    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("manager@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Cotton Kurta").click()
    page.get_by_role("link", name="Edit product").click()
    page.get_by_label("Keywords").fill("kurti;  kurtha , कुर्ता")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert").filter(has_text="Saved “Cotton Kurta”.")).to_be_visible()
    expect(page.get_by_role("region", name="Details")).to_contain_text("kurti, kurtha, कुर्ता")
    with server.database() as session:
        from checkout.models import Product

        assert session.query(Product).filter_by(sku="KUR").one().keywords == "kurti, kurtha, कुर्ता"
