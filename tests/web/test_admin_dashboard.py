"""The dashboard page through the test client: figures from real orders, the waiting list, funnel and chart."""

import html
import re
from datetime import timedelta

import pytest

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import CartStart, StaffUser
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.reports import start_of_day
from tests.factories import make_order, make_product, make_store

S = OrderStatus
PASSWORD = "correct horse battery"


def sign_in_as(app, client, role):
    with app.app_context():
        user = StaffUser(email=f"{role}@shop.example", name=role.title(), role=role)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    response = client.post("/admin/login", data={"email": f"{role}@shop.example", "password": PASSWORD})
    assert response.status_code == 302


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stat(page: str, heading: str) -> str:
    """The figure under a stat's heading, as shown."""
    figure = re.search(rf">{heading}</h3>\s*<p class=\"figure\"[^>]*>(.*?)</p>", page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", figure).split())


@pytest.fixture
def shop(app):
    """Orders placed today (one confirmed, one cancelled, one pending), one 40 days ago, and four carts."""
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        variant = make_product("Assam Tea", price_minor=24000, stock=100).variants[0]
        today = start_of_day(utcnow())
        first = make_order([(variant, 1)])  # 29000, still pending
        second = make_order([(variant, 2)])  # 53000, confirmed
        transition(second, S.CONFIRMED, actor="staff")
        cancelled = make_order([(variant, 1)])
        transition(cancelled, S.CANCELLED, actor="staff", note="Customer changed their mind")
        ancient = make_order([(variant, 3)])
        # Dates that stay inside today whenever the test runs: the first instant of the UTC day and just after.
        first.created_at, second.created_at, cancelled.created_at = today, today + timedelta(seconds=1), today
        ancient.created_at = today - timedelta(days=40)
        db.session.add_all([CartStart(started_at=today) for _ in range(4)])
        db.session.add(CartStart(started_at=today - timedelta(days=40)))
        db.session.commit()
        refs = dict(first=first.reference, second=second.reference, ancient=ancient.reference)
        db.session.remove()
    return refs


def test_dashboard_shows_todays_and_this_weeks_orders_and_revenue(app, client, shop):
    sign_in_as(app, client, "viewer")
    response = client.get("/admin/dashboard")
    assert response.status_code == 200
    page = page_text(response)
    assert stat(page, "Orders today") == "2"
    assert stat(page, "Revenue today") == "₹820.00"  # 290 + 530; the cancelled order is left out
    assert stat(page, "Orders this week") == "2"
    assert stat(page, "Revenue this week") == "₹820.00"


def test_orders_waiting_for_confirmation_are_listed_oldest_first_with_a_link(app, client, shop):
    sign_in_as(app, client, "fulfilment")
    page = page_text(client.get("/admin/dashboard"))
    waiting = page.split('id="waiting-orders"')[1].split("</table>")[0]
    references = re.findall(r'<a class="reference" href="/admin/orders/([^"]+)">', waiting)
    assert references == [shop["ancient"], shop["first"]]  # the 40-day-old one has waited longest
    assert "Waiting for confirmation (2)" in page
    assert "40 days" in waiting and "Asha Kumar" in waiting and "₹290.00" in waiting
    assert shop["second"] not in waiting


def test_funnel_counts_carts_orders_confirmed_and_delivered(app, client, shop):
    sign_in_as(app, client, "owner")
    page = page_text(client.get("/admin/dashboard?funnel=today"))
    funnel = page.split('id="funnel"')[1].split("</table>")[0]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", funnel, re.S)[1:]
    ]
    assert rows == [
        ["Carts started", "4", "100%", "—"],
        ["Orders placed", "3", "75%", "75%"],
        ["Confirmed", "1", "25%", "33.3%"],
        ["Delivered", "0", "0%", "0%"],
    ]
    assert 'aria-current="true">Today</a>' in page

    thirty_days = page_text(client.get("/admin/dashboard"))
    assert 'aria-current="true">Last 30 days</a>' in thirty_days
    assert "Conversion: last 30 days" in thirty_days


def test_chart_has_a_bar_for_each_of_30_days_and_an_accessible_table(app, client, shop):
    sign_in_as(app, client, "viewer")
    page = page_text(client.get("/admin/dashboard"))
    svg = page.split('<svg id="orders-chart"')[1].split("</svg>")[0]
    assert 'role="img"' in svg and 'aria-label="Bar chart of orders per day: 2 orders in the last 30 days' in svg
    bars = re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', svg)
    assert len(bars) == 30
    assert float(bars[-1]) > 0 and all(float(height) == 0 for height in bars[:-1])
    table = page.split('id="orders-per-day"')[1].split("</table>")[0]
    assert 'class="visually-hidden"' in page.split('id="orders-per-day"')[0][-40:]
    counts = re.findall(r"</th><td>(\d+)</td>", table)
    assert len(counts) == 30 and counts[-1] == "2" and set(counts[:-1]) == {"0"}


def test_an_empty_shop_has_a_calm_dashboard(app, client):
    with app.app_context():
        make_store()
    sign_in_as(app, client, "owner")
    page = page_text(client.get("/admin/dashboard"))
    assert stat(page, "Orders today") == "0" and stat(page, "Revenue today") == "₹0.00"
    assert "Nothing waiting." in page
    assert len(re.findall(r'<rect class="bar"', page)) == 30


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
