"""Staff ask for payment from the order page; the customer's status and hand-off pages show the request:
a link to tap, a QR code to scan, a Pix code to copy. Cash on delivery is never asked, bad input never a 500."""

import html
import re

import pytest
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Order, PaymentRequest
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store

UPI_SHOP = dict(payment_provider="upi", upi_payee_address="testshop@okaxis", upi_payee_name="Test Shop")
PIX_SHOP = dict(
    currency="BRL",
    payment_provider="pix",
    pix_key="loja@example.com",
    pix_merchant_name="Loja Teste",
    pix_merchant_city="Recife",
)


@pytest.fixture
def place(app):
    def placed(payment_method="transfer", **shop) -> tuple[str, str]:
        with app.app_context():
            make_store(**shop)
            variant = make_product("Cotton Kurta", price_minor=79900, stock=5).variants[0]
            order = make_order([(variant, 1)], customer(payment_method=payment_method))
            make_staff("owner")
            reference, token = order.reference, order.status_token
            db.session.remove()
        return reference, token

    return placed


def _requests(app) -> list[PaymentRequest]:
    with app.app_context():
        rows = db.session.scalars(select(PaymentRequest)).all()
        db.session.expunge_all()
        return rows


def _request_payment(client, reference):
    sign_in(client, "owner@sunrise.example.com")
    return client.post(f"/admin/orders/{reference}/payment-request", headers={"HX-Request": "true"})


def test_upi_request_from_the_admin_shows_on_the_status_and_handoff_pages(app, client, place):
    reference, token = place(**UPI_SHOP)
    sign_in(client, "owner@sunrise.example.com")
    assert "Request payment</button>" in client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert "payment-request" not in client.get(f"/o/{token}").get_data(as_text=True)
    answer = _request_payment(client, reference)
    assert answer.status_code == 200 and "Payment requested" in answer.get_data(as_text=True)
    [request] = _requests(app)
    for page in (f"/o/{token}", f"/o/{token}/whatsapp"):
        text = client.get(page).get_data(as_text=True)
        [href] = re.findall(r'id="pay-link" href="([^"]+)"', text)
        assert html.unescape(href) == request.url and request.url.startswith("upi://pay?pa=testshop@okaxis&")
        assert "<svg" in text and "QR code to pay this order" in text
        assert "₹849.00" in text  # ₹799 and ₹50 delivery
        assert 'id="payment-code"' not in text


def test_pix_request_shows_the_copia_e_cola_code_with_a_copy_button(app, client, place):
    reference, token = place(**PIX_SHOP)
    assert _request_payment(client, reference).status_code == 200
    [request] = _requests(app)
    text = client.get(f"/o/{token}").get_data(as_text=True)
    [code] = re.findall(r'<textarea id="payment-code" readonly rows="4">([^<]+)</textarea>', text)
    assert code == request.qr_payload and code.startswith("000201")
    assert 'data-copy-from="payment-code"' in text and "js/payment.js" in text
    assert 'id="pay-link"' not in text and "<svg" in text


def test_cash_on_delivery_is_never_requested_and_the_page_says_why(app, client, place):
    reference, token = place(payment_method="cod", **UPI_SHOP)
    sign_in(client, "owner@sunrise.example.com")
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert "Request payment</button>" not in page and "Cash on delivery is paid on delivery" in page
    answer = _request_payment(client, reference)
    assert answer.status_code == 422 and "Cash on delivery" in answer.get_data(as_text=True)
    assert _requests(app) == []
    assert "payment-request" not in client.get(f"/o/{token}").get_data(as_text=True)


def test_a_shop_without_a_provider_shows_no_request_button(app, client, place):
    reference, _ = place(payment_provider="")
    sign_in(client, "owner@sunrise.example.com")
    assert "Request payment" not in client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    answer = _request_payment(client, reference)
    assert answer.status_code == 422 and "payment provider" in answer.get_data(as_text=True)


def test_unknown_order_is_a_404(client, place):
    place(**UPI_SHOP)
    assert _request_payment(client, "ZZZZ-ZZZZ").status_code == 404


def test_a_provider_that_fails_is_shown_to_staff_and_nothing_is_lost(app, client, place):
    reference, token = place(**{**UPI_SHOP, "currency": "USD"})  # UPI refuses anything but rupees
    answer = _request_payment(client, reference)
    assert answer.status_code == 502
    assert "The payment provider failed" in answer.get_data(as_text=True)
    [request] = _requests(app)
    assert request.status == "failed" and "INR" in request.last_error
    with app.app_context():
        assert "failed" in db.session.scalar(select(Order.attention).where(Order.reference == reference))
    assert "payment-request" not in client.get(f"/o/{token}").get_data(as_text=True)
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert "Payment request: <strong>failed</strong>" in page


def _record_payment(app, client, reference, amount):
    with app.app_context():
        version = db.session.scalar(select(Order.version).where(Order.reference == reference))
    form = {"method": "upi", "amount": amount, "reference": "UPI-1", "version": version}
    assert client.post(f"/admin/orders/{reference}/payments", data=form).status_code in (200, 302, 303)


def test_a_recorded_payment_settles_the_request_and_the_pages_stop_showing_it(app, client, place):
    reference, token = place(**UPI_SHOP)
    _request_payment(client, reference)
    _record_payment(app, client, reference, "849")
    [request] = _requests(app)
    assert request.status == "paid"
    assert 'id="pay-link"' not in client.get(f"/o/{token}").get_data(as_text=True)


def test_a_part_payment_expires_the_request_so_no_stale_amount_is_shown(app, client, place):
    reference, token = place(**UPI_SHOP)
    _request_payment(client, reference)
    _record_payment(app, client, reference, "100")
    [request] = _requests(app)
    assert request.status == "expired"
    assert _request_payment(client, reference).status_code == 200  # staff ask again for the balance
    newest = max(_requests(app), key=lambda row: row.id)
    assert (newest.status, newest.amount_minor) == ("requested", 84900 - 10000)
