"""The receipt download: the order's status link opens its own payments' receipts and nothing else."""

import io

import pytest
from pypdf import PdfReader

from checkout.extensions import db
from checkout.orders.desk import record_payment
from checkout.payments.refunds import refund_payment
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store


@pytest.fixture
def paid(app):
    """Two orders of one shop, each with one payment; the first also with a refund."""
    with app.app_context():
        make_store(name="Sunrise Store")
        product = make_product("Cotton Kurta", price_minor=50_000, stock=20, options=[{"Size": "M"}])
        owner = make_staff("owner")
        make_staff("viewer")
        first = make_order([(product.variants[0], 1)], customer(name="राहुल शर्मा"))
        second = make_order([(product.variants[0], 1)], customer(name="Juma Otieno", phone="+254712345678"))
        for order in (first, second):
            record_payment(
                order, method="upi", amount_minor=20_000, reference="UPI9", staff=owner, expected_version=None
            )
        refund_payment(first, amount_minor=5_000, reason="One returned", staff=owner, expected_version=None)
        ids = {
            "token": first.status_token,
            "reference": first.reference,
            "payment": first.payments[0].id,
            "refund": first.payments[1].id,
            "other_payment": second.payments[0].id,
            "other_token": second.status_token,
        }
        db.session.remove()
    return ids


def test_the_status_link_downloads_its_own_payments_receipt(client, paid):
    response = client.get(f"/o/{paid['token']}/receipt/{paid['payment']}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="Receipt-{paid["reference"]}-1.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "राहुल" in text and "UPI9" in text and "Sunrise Store" in text


@pytest.mark.parametrize(
    "path",
    [
        "/o/{token}/receipt/{other_payment}.pdf",  # another order's payment
        "/o/{other_token}/receipt/{payment}.pdf",  # the other way round
        "/o/{token}/receipt/{refund}.pdf",  # a refund has no receipt
        "/o/{token}/receipt/0.pdf",
        "/o/{token}/receipt/99999999999999999999999.pdf",
        "/o/{token}/receipt/abc.pdf",
        "/o/{token}/receipt/-1.pdf",
        "/o/{token}/receipt/{payment}",
        "/o/not-a-token/receipt/{payment}.pdf",
        "/o/%F0%9F%98%80/receipt/{payment}.pdf",
    ],
)
def test_any_other_receipt_address_is_not_found(client, paid, path):
    assert client.get(path.format(**paid)).status_code == 404


def test_the_status_page_links_each_payments_receipt(client, paid):
    page = client.get(f"/o/{paid['token']}").get_data(as_text=True)

    assert f"/o/{paid['token']}/receipt/{paid['payment']}.pdf" in page
    assert f"/receipt/{paid['refund']}.pdf" not in page


def test_an_unpaid_orders_status_page_has_no_receipts(app, client):
    with app.app_context():
        make_store()
        order = make_order([(make_product(stock=5).variants[0], 1)])
        token = order.status_token

    page = client.get(f"/o/{token}").get_data(as_text=True)

    assert "Receipts" not in page and "/receipt/" not in page


def test_staff_who_may_view_orders_download_receipts_from_the_order_page(app, client, paid):
    sign_in(client, "viewer@sunrise.example.com")
    page = client.get(f"/admin/orders/{paid['reference']}").get_data(as_text=True)
    link = f"/admin/orders/{paid['reference']}/receipts/{paid['payment']}.pdf"
    assert link in page
    assert f"/receipts/{paid['refund']}.pdf" not in page

    response = client.get(link)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/admin/orders/{paid['reference']}/receipts/{paid['other_payment']}.pdf").status_code == 404


def test_signed_out_visitors_get_no_receipt_from_the_admin(client, paid):
    response = client.get(f"/admin/orders/{paid['reference']}/receipts/{paid['payment']}.pdf")

    assert response.status_code in (302, 401)
    assert response.mimetype != "application/pdf"
