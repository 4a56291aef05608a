"""On a computer the handoff remembers whether the shopper opens WhatsApp Web or the desktop app."""

import pytest
from playwright.sync_api import expect

from tests.browser.shopper import add_to_cart, fill_checkout

pytestmark = pytest.mark.browser


def place_order(page) -> None:
    add_to_cart(page, "Cast Iron Tawa")
    page.goto("/checkout")
    fill_checkout(page)
    page.get_by_role("button", name="Place order and continue on WhatsApp").click()
    expect(page.locator("#continue-on-whatsapp")).to_be_visible()


def test_choosing_whatsapp_web_once_makes_it_the_main_button_next_time(page):
    place_order(page)
    primary = page.locator("#continue-on-whatsapp")
    expect(primary).to_have_text("Continue on WhatsApp")
    assert primary.get_attribute("href").startswith("https://wa.me/")
    web_link = page.get_by_role("link", name="open WhatsApp Web")
    web_link.evaluate("link => link.addEventListener('click', event => event.preventDefault())")
    web_link.click()

    place_order(page)
    expect(primary).to_have_text("Continue on WhatsApp Web")
    assert primary.get_attribute("href") == page.locator("#open-whatsapp-web").get_attribute("href")
    assert primary.get_attribute("href").startswith("https://web.whatsapp.com/send?phone=919876543210&text=")


def test_phones_always_get_the_app_link(new_context, live_server):
    from tests.browser.conftest import MOBILE

    page = new_context(live_server, device=MOBILE).new_page()
    page.add_init_script("localStorage.setItem('chatout:whatsapp-on-desktop', 'web')")
    place_order(page)
    assert page.locator("#continue-on-whatsapp").get_attribute("href").startswith("https://wa.me/")
