"""The demo catalog end to end on a desktop, ending in the handoff page shown in docs/screenshot.png.

Every run saves the screenshot under pytest's tmp_path. To refresh the one in docs/, run
`CHATOUT_UPDATE_SCREENSHOT=1 .venv/bin/pytest tests/browser -k demo` (the order reference differs on
every run, so the suite does not rewrite a tracked file on its own).
"""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from checkout.demo.store import seed_demo_store
from tests.browser.conftest import DESKTOP
from tests.browser.shopper import (
    add_to_cart,
    fill_checkout,
    handoff_reference,
    open_cart,
    prefilled_text,
    submit_checkout,
    whatsapp_link,
)

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
MAX_SCREENSHOT_BYTES = 400_000
PUBLIC_BASE_URL = "https://sunrise-bazaar.example"  # what a deployed shop puts in its messages


def test_demo_store_checkout_ends_on_a_handoff_page_with_qr_code(serve_app, new_context, tmp_path):
    demo = serve_app(seed_demo_store, PUBLIC_BASE_URL=PUBLIC_BASE_URL)
    page = new_context(demo, device={**DESKTOP, "viewport": {"width": 1280, "height": 900}}).new_page()
    add_to_cart(page, "Cotton Kurta", option="Size M", quantity=2)
    add_to_cart(page, "Assam Tea", option="Pack 500 g")
    add_to_cart(page, "Terracotta Diya Set")
    open_cart(page)
    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page, name="Priya Sharma", address="Flat 12B, Sea View Apartments, Carter Road, Bandra West")
    submit_checkout(page)

    reference = handoff_reference(page)
    expect(page.get_by_role("img", name="QR code that opens WhatsApp with your order")).to_be_visible()
    text = prefilled_text(whatsapp_link(page).get_attribute("href"))
    assert text.startswith(f"Hello Sunrise Bazaar! I'd like to place this order.\n\n*Order {reference}*\n")
    assert "2 × Cotton Kurta (Size M) — ₹1,598.00" in text
    assert "1 × Assam Tea (Pack 500 g) — ₹340.00" in text
    assert "1 × Terracotta Diya Set — ₹299.00" in text
    assert "Delivery: Free" in text  # ₹2,237 is over the demo shop's ₹1,500 free-delivery threshold
    assert "*Total: ₹2,237.00*" in text
    assert f"Order status: {PUBLIC_BASE_URL}/o/" in text

    page.get_by_text("See the message").click()  # open the preview, so the screenshot shows the message
    expect(page.get_by_role("group").filter(has_text="See the message")).to_contain_text(f"Order {reference}")
    assert page.get_by_role("group").filter(has_text="See the message").inner_text().endswith(text)

    screenshot = tmp_path / "handoff-desktop.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size < MAX_SCREENSHOT_BYTES
    if os.environ.get("CHATOUT_UPDATE_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, DOCS_SCREENSHOT)
