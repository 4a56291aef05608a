"""Consent in the widget's drawer: the shop's words beside an unticked box; ticking it is recorded as the widget's."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Consent
from tests.browser.test_widget import add_two_items, fill_checkout, host_site, open_shop  # noqa: F401

pytestmark = pytest.mark.browser
WORDING = "Remind me about my order on WhatsApp"


def test_the_shopper_ticks_reminders_in_the_drawer_and_the_consent_is_kept(open_shop, host_site, new_context):  # noqa: F811
    server = open_shop(consent_wording=WORDING)
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    box = drawer.get_by_role("checkbox", name=WORDING)
    expect(box).not_to_be_checked()
    fill_checkout(page)
    box.check()
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(drawer).to_contain_text("is ready. Send it on WhatsApp to confirm.")
    with server.database() as session:
        consents = [(c.phone, c.source, c.wording) for c in session.scalars(select(Consent))]
    assert consents == [("+919876543210", "widget", WORDING)]
