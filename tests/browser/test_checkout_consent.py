"""Consent at checkout in a real browser: the shop's words beside an unticked box; ticking it is recorded."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from checkout.models import Consent
from checkout.models.store import DEFAULT_CONSENT_WORDING
from tests.browser.shopper import PHONE_E164, add_to_cart, fill_checkout, handoff_reference, submit_checkout

pytestmark = pytest.mark.browser


def _consents(live_server) -> list[tuple[str, str, str]]:
    with live_server.database() as session:
        return [(c.phone, c.source, c.wording) for c in session.scalars(select(Consent))]


def test_the_shopper_ticks_whatsapp_reminders_at_checkout_and_the_consent_is_kept(page, live_server):
    add_to_cart(page, "Cast Iron Tawa")
    page.goto("/checkout")
    box = page.get_by_role("checkbox", name=DEFAULT_CONSENT_WORDING)
    expect(box).not_to_be_checked()
    fill_checkout(page)
    box.check()
    submit_checkout(page)
    handoff_reference(page)
    assert _consents(live_server) == [(PHONE_E164, "website", DEFAULT_CONSENT_WORDING)]


def test_an_unticked_box_gives_no_consent(page, live_server):
    add_to_cart(page, "Cast Iron Tawa")
    page.goto("/checkout")
    fill_checkout(page)
    submit_checkout(page)
    handoff_reference(page)
    assert _consents(live_server) == []
