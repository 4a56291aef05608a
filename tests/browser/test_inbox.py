"""Staff answer a customer with no order from the inbox: the message arrived through the signed webhook."""

import re

import pytest
from playwright.sync_api import expect

from checkout.whatsapp import sandbox
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.browser.test_sandbox_confirm import staff_signs_in

pytestmark = pytest.mark.browser

JUMA = "+254712345678"


def seed_shop_and_owner():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def test_staff_see_a_new_chat_in_the_inbox_open_it_and_reply(serve_app, new_context):
    server = serve_app(seed_shop_and_owner, WHATSAPP_PROVIDER="sandbox")
    with server.database():
        sandbox.send_text(JUMA, "Do you deliver to Mombasa?", name="Juma")  # signed, through /webhooks/whatsapp

    staff = new_context(server).new_page()
    staff_signs_in(staff)
    inbox_link = staff.get_by_role("navigation", name="Admin").get_by_role("link", name=re.compile(r"^Inbox"))
    expect(inbox_link).to_contain_text("1")  # the unread badge, polled on load
    inbox_link.click()

    chats = staff.get_by_role("list", name="Conversations")
    juma = chats.get_by_role("link", name=re.compile(r"Juma"))
    expect(juma).to_contain_text("Do you deliver to Mombasa?")
    with server.database():
        sandbox.send_text(JUMA, "And on Sundays?", name="Juma")
    expect(juma).to_contain_text("And on Sundays?")  # the list polls: no reload needed
    juma.click()

    expect(staff.get_by_role("heading", level=1)).to_have_text("Juma")
    messages = staff.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem").filter(has_text="Do you deliver to Mombasa?")).to_be_visible()
    expect(staff.locator("#handler")).to_have_text("Handled by the bot.")
    expect(inbox_link.locator(".badge")).to_have_text("", timeout=15_000)  # read now: the badge empties

    staff.get_by_role("button", name="Take this chat").click()
    expect(staff.locator("#handler")).to_contain_text("Handled by Meera")

    staff.get_by_label("Message to the customer").fill("Yes, Mombasa in 3 days.")
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status")).to_contain_text("Reply queued")
    expect(messages.get_by_role("listitem").filter(has_text="Yes, Mombasa in 3 days.")).to_be_visible()
    expect(staff.get_by_label("Message to the customer")).to_have_value("")
