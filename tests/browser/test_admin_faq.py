"""A manager adds an FAQ answer in a real browser, finds it in the list, and tries a customer's message on it."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("manager", email="manager@sunrise.example.com", name="Ravi")


def test_a_manager_adds_an_faq_answer_and_tries_a_message(serve_app, new_context):
    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("manager@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="FAQ").click()
    expect(page.get_by_role("heading", name="FAQ answers")).to_be_visible()
    page.get_by_role("link", name="Add an answer").click()
    page.get_by_role("button", name="Add answer").click()  # empty: every field says what it needs
    expect(page.get_by_text("Write the question, as customers would ask it.")).to_be_visible()
    page.get_by_label("Question").fill("How long does delivery take?")
    page.get_by_label("Keywords").fill("delivery, kab tak, how long")
    page.get_by_label("Answer", exact=True).fill("3–7 working days anywhere in India.")
    page.get_by_role("button", name="Add answer").click()

    expect(page.get_by_role("alert").filter(has_text="Added the answer to")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="How long does delivery take?")
    expect(row).to_contain_text("delivery, kab tak, how long")
    expect(row).to_contain_text("Active")

    page.get_by_label("A customer's message").fill("delivery kab tak hogi?")
    page.get_by_role("button", name="Try").click()
    expect(page.get_by_role("status")).to_contain_text("3–7 working days anywhere in India.")
    with server.database() as session:
        from checkout.models import FaqEntry

        assert [(e.keywords, e.active) for e in session.query(FaqEntry)] == [("delivery, kab tak, how long", True)]
