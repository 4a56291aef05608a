"""The owner rewrites the ordering chat's texts in a real browser: a language at a time, refusals explained
under their text with nothing saved, and a text put back to the default."""

import re

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import MOBILE, seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def stored(server) -> dict:
    with server.database() as session:
        from checkout.models import StoreSettings

        return dict(session.query(StoreSettings).one().chat_texts or {})


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_owner_rewrites_chat_texts_in_hinglish_and_resets_one(serve_app, new_context, device):
    server = serve_app(seed)
    page = new_context(server, **({"device": MOBILE} if device == "phone" else {})).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Chat texts").click()
    expect(page.get_by_role("heading", name="Chat texts", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Hinglish").click()
    add_more = page.get_by_label("Button: add more")
    expect(add_more).to_have_attribute("placeholder", "Aur add karein")
    expect(add_more).to_have_value("")

    add_more.fill("Aur chahiye")
    page.get_by_label("Asking how many", exact=True).fill("{item} kitne? {price} ka ek, {discount}")
    page.get_by_role("button", name="Save chat texts").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    expect(page.get_by_text("{discount} can't be used in this text. You can use: {item}, {price}.")).to_be_visible()
    expect(page.get_by_label("Button: add more")).to_have_value("Aur chahiye")  # what was typed is kept
    assert stored(server) == {}

    page.get_by_label("Asking how many", exact=True).fill("{item} kitne? {price} ka ek.")
    page.get_by_role("button", name="Save chat texts").click()
    expect(page.get_by_role("alert").filter(has_text="Chat texts in Hinglish saved.")).to_be_visible()
    assert stored(server) == {
        "hinglish": {"add_more": "Aur chahiye", "choose_quantity": "{item} kitne? {price} ka ek."}
    }

    page.get_by_role("button", name=re.compile(r"^Reset to default\W+Button: add more$")).click()
    expect(page.get_by_role("alert").filter(has_text="is back to the default in Hinglish")).to_be_visible()
    expect(page.get_by_label("Button: add more")).to_have_value("")
    assert stored(server) == {"hinglish": {"choose_quantity": "{item} kitne? {price} ka ek."}}
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
