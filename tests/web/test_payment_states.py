"""Payment states as shops see them, beside fulfilment: each desk row says it, the desk filters by it (keyset
paging kept), the dashboard counts it, and the customer's status page words it — all from one rule."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Order, Variant
from checkout.orders.desk import change_status, record_payment
from checkout.orders.queries import OrderFilters, find_orders
from checkout.payments.refunds import refund_payment
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store

PRICE = 50000  # ₹500, no delivery fee


@pytest.fixture
def shop(app):
    """Six orders today, one in each state: awaiting, partly paid, paid, partly refunded, refunded, and a cancelled
    order nobody paid (not awaiting anything)."""
    with app.app_context():
        make_store(delivery_fee_minor=0)
        variant = make_product("Cotton Kurta", price_minor=PRICE, stock=100).variants[0]
        owner = make_staff("owner")
        names = ["Awaiting", "Partly Paid", "Paid", "Partly Refunded", "Refunded", "Cancelled"]
        orders = {name: make_order([(variant, 1)], details=customer(name=name)) for name in names}

        def pay(name, amount):
            record_payment(
                orders[name], method="upi", amount_minor=amount, reference="U", staff=owner, expected_version=None
            )

        def give_back(name, amount):
            refund_payment(orders[name], amount_minor=amount, reason="Goodwill", staff=owner, expected_version=None)

        pay("Partly Paid", 20000)
        for name in ("Paid", "Partly Refunded", "Refunded"):
            pay(name, PRICE)
        give_back("Partly Refunded", 10000)
        give_back("Refunded", PRICE)
        change_status(orders["Cancelled"], "cancelled", staff=owner, expected_version=None, note="No answer")
        references = {name: order.reference for name, order in orders.items()}
        db.session.remove()
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")
    return {"client": client, "refs": references}


def rows(page: str) -> dict[str, str]:
    """Each desk row's customer name → its payment cell's text."""
    found = {}
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        name = re.search(r"<td>([^<]+)<br><small>", row)
        cell = re.search(r'<span class="payment-state payment-[a-z_]+">([^<]+)</span>', row)
        if name and cell:
            found[html.unescape(name.group(1))] = cell.group(1)
    return found


def test_each_desk_row_shows_its_payment_state_beside_its_status(shop):
    page = shop["client"].get("/admin/orders").get_data(as_text=True)
    assert rows(page) == {
        "Awaiting": "Awaiting payment",
        "Partly Paid": "Partly paid",
        "Paid": "Paid",
        "Partly Refunded": "Partly refunded",
        "Refunded": "Refunded",
        "Cancelled": "Not paid",  # nobody waits for the money of a cancelled order
    }


@pytest.mark.parametrize(
    ("state", "names"),
    [
        ("unpaid", ["Awaiting"]),  # the cancelled order nobody paid is not awaited
        ("partially_paid", ["Partly Paid"]),
        ("paid", ["Paid"]),
        ("partly_refunded", ["Partly Refunded"]),
        ("refunded", ["Refunded"]),
    ],
)
def test_the_desk_filters_by_payment_state(shop, state, names):
    page = shop["client"].get(f"/admin/orders?payment={state}").get_data(as_text=True)
    assert sorted(rows(page)) == names
    assert re.search(rf'<option value="{state}" selected>', page)


def test_an_unknown_payment_filter_shows_every_order(shop):
    page = shop["client"].get("/admin/orders?payment=<script>").get_data(as_text=True)
    assert len(rows(page)) == 6 and "<script>" not in page


def test_the_payment_filter_keeps_the_status_tabs_and_other_filters(shop):
    page = shop["client"].get("/admin/orders?payment=paid&status=pending").get_data(as_text=True)
    assert sorted(rows(page)) == ["Paid"]
    assert re.search(r"Waiting for confirmation <span class=\"count\">1</span>", page)  # counted under the filter
    tabs = re.search(r'<ul class="tabs".*?</ul>', page, re.S).group(0)
    assert all("payment=paid" in link for link in re.findall(r'href="([^"]+)"', tabs))


def test_the_payment_filter_pages_by_keyset(app, shop):
    with app.app_context():
        variant = db.session.scalar(select(Variant))
        for index in range(5):
            make_order([(variant, 1)], details=customer(name=f"More {index}"))
        first = find_orders(OrderFilters(payment="unpaid"), page_size=4)
        second = find_orders(OrderFilters(payment="unpaid"), after=first.next_cursor, page_size=4)
        names = [o.customer_name for o in first.orders + second.orders]
        assert second.next_cursor is None
        assert sorted(names) == sorted(["Awaiting"] + [f"More {i}" for i in range(5)]) and len(set(names)) == 6


def test_the_dashboard_counts_todays_orders_in_each_payment_state_and_links_the_desk(shop):
    page = html.unescape(shop["client"].get("/admin/dashboard").get_data(as_text=True))
    section = re.search(r'<ul class="payment-counts" aria-labelledby="payments-today">(.*?)</ul>', page, re.S).group(1)
    counts = dict(re.findall(r">([A-Za-z ]+)</a>: <strong[^>]*>(\d+)</strong>", section))
    assert counts == {
        "Awaiting payment": "1",
        "Partly paid": "1",
        "Paid": "1",
        "Partly refunded": "1",
        "Refunded": "1",
    }
    assert re.search(r'href="/admin/orders\?payment=partly_refunded&from=\d{4}-\d\d-\d\d&to=', section)


def test_orders_of_other_days_are_not_counted_today(app, shop):
    with app.app_context():
        for order in db.session.scalars(select(Order)):
            order.created_at = utcnow() - timedelta(days=40)
        db.session.commit()
    page = html.unescape(shop["client"].get("/admin/dashboard").get_data(as_text=True))
    section = re.search(r'aria-labelledby="payments-today">(.*?)</ul>', page, re.S).group(1)
    assert set(re.findall(r"<strong[^>]*>(\d+)</strong>", section)) == {"0"}


def test_the_order_page_and_the_status_page_word_a_partly_refunded_order(app, shop):
    reference = shop["refs"]["Partly Refunded"]
    page = html.unescape(shop["client"].get(f"/admin/orders/{reference}").get_data(as_text=True))
    assert '<strong id="payment-status">Partly refunded</strong>' in page
    assert "Paid ₹400.00 of ₹500.00 · refunded ₹100.00" in page
    assert "· balance" not in page  # a refund takes its amount off what is owed
    with app.app_context():
        token = db.session.scalar(select(Order.status_token).where(Order.reference == reference))
    status_page = html.unescape(app.test_client().get(f"/o/{token}").get_data(as_text=True))
    assert re.search(
        r'class="payment-state payment-partly_refunded" id="payment-state"><strong>Paid ₹400.00 — ₹100.00 refunded',
        status_page,
    )
