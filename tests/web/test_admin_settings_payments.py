"""The payments page: the owner chooses the provider, when customers are asked, and the provider's details."""

import html

import pytest

from checkout.extensions import db
from checkout.models import get_store_settings
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store

URL = "/admin/settings/payments"


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()  # rupees
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    return client


def stored(app) -> tuple:
    with app.app_context():
        s = get_store_settings()
        found = (s.payment_provider, s.payment_request_when, s.upi_payee_address, s.upi_payee_name, s.pix_key)
        db.session.remove()
        return found


def form(**values) -> dict:
    fields = ("payment_provider", "payment_request_when", "upi_payee_address", "upi_payee_name")
    fields += ("pix_key", "pix_merchant_name", "pix_merchant_city")
    return {field: values.get(field, "") for field in fields} | {"payment_request_when": "on_demand"} | values


def test_the_owner_chooses_upi_asked_when_staff_confirm(app, owner):
    page = owner.get(URL)
    assert page.status_code == 200 and "UPI (link and QR code)" in page.get_data(as_text=True)
    saved = owner.post(
        URL,
        data=form(
            payment_provider="upi",
            payment_request_when="staff_confirmed",
            upi_payee_address="  sunrise@okaxis ",
            upi_payee_name="Sunrise Store",
        ),
    )
    assert saved.status_code == 303
    assert stored(app) == ("upi", "staff_confirmed", "sunrise@okaxis", "Sunrise Store", "")
    assert 'value="sunrise@okaxis"' in owner.get(URL).get_data(as_text=True)


def test_every_problem_is_named_and_nothing_is_saved(app, owner):
    refused = owner.post(URL, data=form(payment_provider="upi", upi_payee_address="", payment_request_when="soon"))
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "UPI needs the shop's UPI ID." in text and "Choose when customers are asked to pay." in text
    assert stored(app) == ("", "on_demand", "", "", "")


@pytest.mark.parametrize("provider", ["bitcoin", "x" * 5000, "upi\x00"])
def test_nonsense_is_refused_with_words_not_an_error_page(app, owner, provider):
    response = owner.post(URL, data=form(payment_provider=provider))
    assert response.status_code in (400, 422)
    assert stored(app)[0] == ""


def test_pix_for_a_rupee_shop_is_refused(app, owner):
    refused = owner.post(
        URL,
        data=form(
            payment_provider="pix", pix_key="+5511987654321", pix_merchant_name="Loja", pix_merchant_city="Recife"
        ),
    )
    assert refused.status_code == 422 and stored(app)[0] == ""


def test_only_those_who_edit_settings_see_the_page(app, client):
    with app.app_context():
        make_store()
        make_staff("manager", email="manager@sunrise.example.com")
    sign_in(client, "manager@sunrise.example.com")
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=form(payment_provider="upi")).status_code == 403


def test_the_owner_chooses_razorpay_when_its_keys_are_in_the_environment(make_app):
    app = make_app(RAZORPAY_KEY_ID="rzp_test_key", RAZORPAY_KEY_SECRET="secret")
    client = app.test_client()
    with app.app_context():
        make_store()
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    assert "Razorpay Payment Links (UPI, cards)" in client.get(URL).get_data(as_text=True)
    assert client.post(URL, data=form(payment_provider="razorpay")).status_code == 303
    assert stored(app)[0] == "razorpay"


def test_razorpay_without_its_keys_is_refused_with_what_to_set(app, owner):
    refused = owner.post(URL, data=form(payment_provider="razorpay"))
    assert refused.status_code == 422 and "RAZORPAY_KEY_ID" in refused.get_data(as_text=True)
    assert stored(app)[0] == ""
