"""The owner edits settings in a real browser: each section saves on its own, a refusal keeps the others."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import MOBILE, seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def sign_in(page) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()


def stored(server):
    with server.database() as session:
        from checkout.models import StoreSettings

        settings = session.query(StoreSettings).one()
        return settings.name, settings.delivery_fee_minor, settings.pickup_address, dict(settings.message_texts or {})


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_each_settings_section_saves_on_its_own(serve_app, new_context, device):
    server = serve_app(seed)
    page = new_context(server, **({"device": MOBILE} if device == "phone" else {})).new_page()
    sign_in(page)
    page.goto("/admin/settings")
    _, fee_before, address_before, _ = stored(server)

    shop = page.get_by_role("region", name="Shop")
    shop.get_by_label("Shop name").fill("Sunrise Sarees")
    page.get_by_label("Delivery fee").fill("999")  # typed in another section, which is not saved
    shop.get_by_role("button", name="Save shop").click()
    expect(page.get_by_role("alert").filter(has_text="Shop saved.")).to_be_visible()
    assert stored(server)[:3] == ("Sunrise Sarees", fee_before, address_before)

    delivery = page.get_by_role("region", name="Delivery and pickup")
    delivery.get_by_label("Offer pickup").check()
    delivery.get_by_label("Pickup address").fill("")
    delivery.get_by_role("button", name="Save delivery and pickup").click()
    delivery = page.get_by_role("region", name="Delivery and pickup")
    expect(delivery.get_by_role("alert")).to_contain_text("Delivery and pickup was not saved")
    expect(delivery).to_contain_text("Give the pickup address, or turn pickup off.")
    expect(page.get_by_role("region", name="Shop").get_by_label("Shop name")).to_have_value("Sunrise Sarees")
    assert stored(server)[:3] == ("Sunrise Sarees", fee_before, address_before)
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Message texts").click()
    expect(page.get_by_role("heading", name="Message texts")).to_be_visible()
    page.get_by_label("Order confirmed", exact=True).fill("Thank you {customer_name}, order {reference} is confirmed.")
    expect(page.locator("#preview-confirmed")).to_contain_text("Thank you Asha Kumar")  # the live preview
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Save message texts").click()
    expect(page.get_by_role("alert").filter(has_text="Messages saved.")).to_be_visible()
    assert stored(server)[3] == {"confirmed": "Thank you {customer_name}, order {reference} is confirmed."}
    assert stored(server)[0] == "Sunrise Sarees"
