"""The public status page shows the customer's timeline only: never notes, assignments or mismatches."""

import re
from datetime import date

import pytest

from checkout.extensions import db
from checkout.models import Order, StaffUser
from checkout.money import format_money
from checkout.orders import desk
from checkout.orders.customer_timeline import customer_timeline
from checkout.orders.lifecycle import record_event
from checkout.payments import refunds
from tests.admin_helpers import make_staff
from tests.factories import make_order, make_product, make_store

STAFF_NOTE = "Customer sounded drunk, call back before shipping"


@pytest.fixture
def order_id(app):
    with app.app_context():
        make_store(locale="en_IN")
        variant = make_product("Cotton Kurta", price_minor=79900, stock=5).variants[0]
        order_id = make_order([(variant, 1)]).id
        db.session.remove()
    return order_id


def _order(order_id) -> Order:
    return db.session.get(Order, order_id)


def test_internal_events_are_left_out_and_the_page_still_answers(app, client, order_id):
    with app.app_context():
        owner, packer = make_staff("owner"), make_staff("fulfilment", name="Ravi Packer")
        desk.add_note(_order(order_id), STAFF_NOTE, staff=owner)
        desk.assign_order(_order(order_id), packer, staff=owner, expected_version=None)
        desk.record_payment(
            _order(order_id),
            method="upi",
            amount_minor=100,
            reference="UPI-SECRET-42",
            staff=owner,
            expected_version=None,
        )
        refunds.refund_payment(
            _order(order_id), amount_minor=100, reason="Refund reason X", staff=owner, expected_version=None
        )
        kinds = [entry.kind for entry in customer_timeline(_order(order_id))]
        token = _order(order_id).status_token
    assert kinds == ["placed", "payment"]
    response = client.get(f"/o/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Order placed" in page and "Payment received" in page
    for internal in (STAFF_NOTE, "Ravi Packer", "Assigned", "UPI-SECRET-42", "Refund reason X"):
        assert internal not in page


def test_shipped_order_shows_carrier_tracking_link_and_expected_date_without_leaking_the_token(app, client, order_id):
    with app.app_context():
        owner = make_staff("owner")
        for status in ("confirmed", "preparing"):
            desk.change_status(_order(order_id), status, staff=owner, expected_version=None)
        parcel = desk.FulfilmentDetails("Blue Dart", "BD123", "https://track.example/BD123", date(2026, 12, 4))
        desk.change_status(_order(order_id), "shipped", staff=owner, expected_version=None, fulfilment=parcel)
        token = _order(order_id).status_token
    page = client.get(f"/o/{token}").get_data(as_text=True)
    assert "Blue Dart" in page and "BD123" in page
    assert "4 Dec 2026" in page  # the store's locale (en_IN), not an ISO date
    assert re.findall(r'<a [^>]*href="https://track\.example/BD123"[^>]*>', page)
    # The page's address carries the token: no link to another site may send it as the Referer.
    external = re.findall(r'<a [^>]*href="https?://(?!localhost)[^"]*"[^>]*>', page)
    assert external and all("noreferrer" in link for link in external), external


def test_cancelled_order_shows_the_reason_but_not_other_status_notes(app, client, order_id):
    with app.app_context():
        owner = make_staff("owner")
        desk.change_status(_order(order_id), "confirmed", staff=owner, expected_version=None, note="internal: VIP")
        desk.change_status(_order(order_id), "cancelled", staff=owner, expected_version=None, note="Out of stock")
        token = _order(order_id).status_token
    page = client.get(f"/o/{token}").get_data(as_text=True)
    assert "Cancelled: Out of stock" in page
    assert "internal: VIP" not in page


def test_public_status_api_uses_the_same_customer_timeline(app, client, order_id):
    with app.app_context():
        owner = make_staff("owner")
        desk.add_note(_order(order_id), STAFF_NOTE, staff=owner)
        desk.change_status(_order(order_id), "confirmed", staff=owner, expected_version=None)
        token = _order(order_id).status_token
    body = client.get(f"/api/v1/status/{token}").get_json()
    assert [(e["kind"], e["status"]) for e in body["timeline"]] == [("created", "pending"), ("status", "confirmed")]
    assert STAFF_NOTE not in str(body)


def test_a_kind_of_event_the_builder_does_not_know_stays_internal(app, order_id):
    with app.app_context():
        order = _order(order_id)
        record_event(order, "courier_call", "system", note="Rider says the gate code is 4711")
        record_event(order, "status", "system", note="from a newer version", to_status="lost_in_transit")
        db.session.commit()
        entries = customer_timeline(_order(order_id))
    assert [entry.kind for entry in entries] == ["placed"]


def _status_page(client, app, order_id) -> str:
    with app.app_context():
        token = _order(order_id).status_token
    response = client.get(f"/o/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_payment_state_reads_partly_paid_then_paid_with_the_receipt(app, client, order_id):
    # Cash on delivery, nothing paid and nothing requested: the page names the method and claims no state.
    assert 'id="payment-state"' not in _status_page(client, app, order_id)
    with app.app_context():
        owner_id = make_staff("owner").id
        total = _order(order_id).total_minor  # ₹799 + delivery
        desk.record_payment(
            _order(order_id),
            method="upi",
            amount_minor=50_000,
            reference="U1",
            staff=db.session.get(StaffUser, owner_id),
            expected_version=None,
        )
        still = format_money(total - 50_000, "INR", "en_IN")
    page = _status_page(client, app, order_id)
    assert f"Partly paid — {still} still to pay" in page
    with app.app_context():
        desk.record_payment(
            _order(order_id),
            method="upi",
            amount_minor=total - 50_000,
            reference="U2",
            staff=db.session.get(StaffUser, owner_id),
            expected_version=None,
        )
        second = max(p.id for p in _order(order_id).payments)
        token = _order(order_id).status_token
    page = _status_page(client, app, order_id)
    state = re.search(r'<p class="payment-state payment-paid" id="payment-state">(.*?)</p>', page, re.S)
    assert state, page
    assert f"Paid {format_money(total, 'INR', 'en_IN')}" in state.group(1)
    assert f'href="/o/{token}/receipt/{second}.pdf"' in state.group(1)
    assert "Partly paid" not in page
