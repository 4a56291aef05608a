"""A customer downloads a payment's receipt from the order's status page in a real browser."""

import pytest
from playwright.sync_api import expect

from checkout.extensions import db
from checkout.models import Order, Variant
from checkout.orders.desk import record_payment
from tests.admin_helpers import make_staff
from tests.browser.conftest import seed_test_shop
from tests.factories import customer, make_order

pytestmark = pytest.mark.browser


def seed_paid_order():
    seed_test_shop()
    tawa = db.session.query(Variant).filter_by(sku="TAW-0").one()
    order = make_order([(tawa, 1)], details=customer(name="राहुल शर्मा", phone="+919876543210"))
    owner = make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    record_payment(order, method="upi", amount_minor=50_000, reference="UPI1", staff=owner, expected_version=None)


def test_the_customer_downloads_the_receipt_from_the_status_page(serve_app, new_context):
    server = serve_app(seed_paid_order)
    with server.database() as session:
        order = session.query(Order).one()
        token, reference = order.status_token, order.reference
    page = new_context(server).new_page()
    page.goto(f"/o/{token}")

    expect(page.get_by_role("heading", name="Receipts")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Receipt for ₹500.00").click()

    download = download_info.value
    assert download.suggested_filename == f"Receipt-{reference}-1.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
