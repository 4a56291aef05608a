"""Staff cancel a paid order in a real browser: the cancel form asks what happens to the money, and the
timeline shows the refund, in the shop's time."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import DESKTOP, MOBILE, seed_test_shop
from tests.factories import customer, make_order

pytestmark = pytest.mark.browser


def seed_paid_order():
    seed_test_shop()
    from checkout.extensions import db
    from checkout.models import Variant
    from checkout.orders.desk import record_payment
    from checkout.orders.lifecycle import transition

    tawa = db.session.query(Variant).filter_by(sku="TAW-0").one()
    order = make_order([(tawa, 1)], details=customer(name="Asha Kumar", phone="+919876543210"))
    transition(order, "confirmed", actor="Meera")
    owner = make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    record_payment(order, method="upi", amount_minor=50_000, reference="UPI1", staff=owner, expected_version=None)


@pytest.mark.parametrize("device", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_staff_cancel_a_paid_order_and_refund_the_money(serve_app, new_context, device):
    server = serve_app(seed_paid_order)
    page = new_context(server, device).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()  # signed in before going anywhere else
    with server.database() as session:
        from checkout.models import Order

        reference = session.query(Order).one().reference
    page.goto(f"/admin/orders/{reference}")

    page.get_by_text("Cancel order…").click()
    page.get_by_label("Reason (the customer is told)").fill("Out of stock")
    expect(page.get_by_role("group", name="The customer has paid ₹500.00. Their money:")).to_be_visible()
    page.get_by_label("Refund ₹500.00 now").check()
    page.get_by_role("button", name="Cancel order", exact=True).click()

    expect(page.locator("#order-status")).to_have_text("Cancelled")
    expect(page.get_by_role("list").filter(has_text="Refund of ₹500.00")).to_be_visible()
    with server.database() as session:
        cancelled = session.query(Order).one()
        assert (cancelled.status, cancelled.amount_paid_minor, cancelled.payment_status) == ("cancelled", 0, "refunded")
