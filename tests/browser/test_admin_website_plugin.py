"""The owner sets up the website plugin on a phone: a key first, then the snippet with that key, on a 390 px page."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import DESKTOP, MOBILE, seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("device", [MOBILE, DESKTOP], ids=["phone", "desktop"])
def test_a_key_is_made_first_and_the_snippet_comes_with_it(serve_app, new_context, device):
    server = serve_app(seed)
    page = new_context(server, device=device).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
    page.goto("/admin/website")
    expect(page.get_by_role("heading", name="1. Make a widget key")).to_be_visible()
    expect(page.get_by_text("Make a widget key first (step 1)")).to_be_visible()
    expect(page.locator("#embed-snippet")).to_have_count(0)
    if device is MOBILE:
        assert page_width(page) <= 390

    page.get_by_role("button", name="Make key").click()
    key = page.get_by_label("Your new key").input_value()
    assert key.startswith("chw_")
    snippet = page.locator("#embed-snippet")
    expect(snippet).to_contain_text(f'data-store-key="{key}"')
    page.get_by_label("Chat button only").check()
    expect(snippet).to_contain_text('data-mode="chat"')  # the htmx update keeps the key
    expect(snippet).to_contain_text(f'data-store-key="{key}"')
    if device is MOBILE:
        assert page_width(page) <= 390

    page.goto("/admin/website/preview")  # the preview makes its key once, then reuses it
    page.goto("/admin/website/preview")
    with server.database() as session:
        from checkout.models.api import ApiKey

        names = sorted(k.name for k in session.query(ApiKey))
    assert names == ["Admin preview", "Main website"]
