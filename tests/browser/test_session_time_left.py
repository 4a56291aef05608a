"""Staff answer a customer who paid for a consultation: the first reply starts the session and the conversation
counts down the time left."""

import re

import pytest
from playwright.sync_api import expect

from checkout.whatsapp import sandbox
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.browser.test_sandbox_confirm import staff_signs_in
from tests.factories import customer, make_order
from tests.sessions.helpers import make_service, pay_in_full

pytestmark = pytest.mark.browser

ASHA = "+919876543210"


def seed_shop_with_a_paid_consultation():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    law = make_service("Legal consultation", price_minor=20000, minutes=60)
    order = make_order([(law.variants[0], 1)], details=customer(phone=ASHA, fulfilment="pickup", address=""))
    pay_in_full(order.reference)


def test_staff_start_a_paid_session_with_their_first_reply_and_see_the_time_left(serve_app, new_context):
    server = serve_app(seed_shop_with_a_paid_consultation, WHATSAPP_PROVIDER="sandbox")
    with server.database():
        sandbox.send_text(ASHA, "Good morning, about my tenancy case", name="Asha")  # signed, through the webhook

    staff = new_context(server).new_page()
    staff_signs_in(staff)
    staff.get_by_role("navigation", name="Admin").get_by_role("link", name=re.compile(r"^Inbox")).click()
    staff.get_by_role("list", name="Conversations").get_by_role("link", name=re.compile(r"Asha")).click()

    session = staff.get_by_role("region", name=re.compile(r"Paid session"))
    expect(session).to_contain_text("Paid for 60 minutes, not started")

    staff.get_by_label("Message to the customer").fill("Hello Asha, tell me about the lease.")
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status")).to_contain_text("Reply queued")

    time_left = session.locator("#session-time-left")
    expect(session).to_contain_text("Time left")
    expect(time_left).to_have_text(re.compile(r"^(60:00|59:\d\d)$"))
    shown = time_left.inner_text()
    expect(time_left).not_to_have_text(shown, timeout=5_000)  # the page counts down by itself
    expect(time_left).to_have_text(re.compile(r"^59:\d\d$"))
