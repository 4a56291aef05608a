"""The dashboard page through the test client: figures from real orders, the waiting list, funnel and chart."""

import html
import re
from datetime import timedelta

import pytest

from checkout.database import utcnow
from checkout.dates import format_day, local_day
from checkout.extensions import db
from checkout.models import StaffUser, get_store_settings
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.orders.reports import start_of_day
from tests.factories import make_journey_cart, make_order, make_product, make_store

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
    """Orders placed today (one confirmed, one cancelled, one pending), one 40 days ago, and five carts: three on
    the website today (two taken to checkout and placed as the first two orders), one in the widget, one long ago."""
    with app.app_context():
        store = make_store(delivery_fee_minor=5000)
        variant = make_product("Assam Tea", price_minor=24000, stock=100).variants[0]
        today = start_of_day(utcnow(), store.zone_name)  # the shop's day (Asia/Kolkata)
        first = make_order([(variant, 1)])  # 29000, still pending
        second = make_order([(variant, 2)])  # 53000, confirmed
        transition(second, S.CONFIRMED, actor="staff")
        cancelled = make_order([(variant, 1)])
        transition(cancelled, S.CANCELLED, actor="staff", note="Customer changed their mind")
        ancient = make_order([(variant, 3)])
        # Dates that stay inside today whenever the test runs: the first instant of the shop's day and just after.
        first.created_at, second.created_at, cancelled.created_at = today, today + timedelta(seconds=1), today
        ancient.created_at = today - timedelta(days=40)
        for placed in (first, second):
            make_journey_cart("website", today, checkout_started_at=today, order=placed)
        make_journey_cart("website", today)
        make_journey_cart("widget", today)
        make_journey_cart("website", today - timedelta(days=40))
        refs = dict(first=first.reference, second=second.reference, ancient=ancient.reference)
        db.session.remove()
    return refs


def test_dashboard_shows_todays_and_this_weeks_orders_and_revenue(app, client, shop):
    sign_in_as(app, client, "viewer")
    response = client.get("/admin/dashboard")
    assert response.status_code == 200
    page = page_text(response)
    assert stat(page, "Orders today") == "2"
    # Revenue is the confirmed order's 530: the pending one is not money yet, the cancelled one never will be.
    assert stat(page, "Revenue today") == "₹530.00"
    assert stat(page, "Orders this week") == "2"
    assert stat(page, "Revenue this week") == "₹530.00"


def test_orders_waiting_for_confirmation_are_listed_oldest_first_with_a_link(app, client, shop):
    sign_in_as(app, client, "fulfilment")
    page = page_text(client.get("/admin/dashboard"))
    waiting = page.split('id="waiting-orders"')[1].split("</table>")[0]
    references = re.findall(r'<a class="reference" href="/admin/orders/([^"]+)">', waiting)
    assert references == [shop["ancient"], shop["first"]]  # the 40-day-old one has waited longest
    assert "Waiting for confirmation (2)" in page
    assert "40 days" in waiting and "Asha Kumar" in waiting and "₹290.00" in waiting
    assert shop["second"] not in waiting


def funnel_rows(page: str) -> list[list[str]]:
    funnel = page.split('id="funnel"')[1].split("</table>")[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", funnel, re.S)[1:]
    ]


def test_funnel_follows_carts_to_orders_and_beyond(app, client, shop):
    sign_in_as(app, client, "owner")
    page = page_text(client.get("/admin/dashboard?funnel=today"))
    assert funnel_rows(page) == [
        ["Sessions with a cart", "4", "—", "—"],
        ["Checkout started", "2", "50%", "0 s"],
        ["Order placed", "3", "100%", "0 s"],  # the cancelled order had no cart: it counts from here
        ["Hand-off opened", "0", "0%", "—"],
        ["WhatsApp message received", "0", "—", "—"],
        ["Confirmed", "1", "—", "—"],
        ["Paid", "0", "0%", "—"],
        ["Delivered", "0", "—", "—"],
    ]
    assert 'aria-current="true">Today</a>' in page and 'aria-current="true">All sources</a>' in page
    assert "Funnel: today, all sources" in page
    per_day = page.split('id="funnel-per-day"')[1].split("</table>")[0]
    assert len(re.findall(r"<tr>", per_day)) == 2  # the heading and today
    assert "<td>4</td><td>2 <small>(50%)</small></td><td>3 <small>(100%)</small></td>" in per_day

    thirty_days = page_text(client.get("/admin/dashboard"))
    assert 'aria-current="true">Last 30 days</a>' in thirty_days
    assert "Funnel: last 30 days, all sources" in thirty_days


def test_funnel_source_filter_keeps_the_period_and_shows_one_source(app, client, shop):
    sign_in_as(app, client, "owner")
    page = page_text(client.get("/admin/dashboard?funnel=today&source=widget"))
    assert "Funnel: today, Widget" in page
    assert [row[1] for row in funnel_rows(page)] == ["1", "0", "0", "0", "0", "0", "0", "0"]
    assert 'href="/admin/dashboard?funnel=week&source=widget"' in page
    website = page_text(client.get("/admin/dashboard?funnel=today&source=website"))
    assert [row[1] for row in funnel_rows(website)] == ["3", "2", "3", "0", "0", "1", "0", "0"]
    # An unknown source is no error: all sources are shown.
    unknown = client.get("/admin/dashboard?funnel=today&source=fax")
    assert unknown.status_code == 200 and "Funnel: today, all sources" in page_text(unknown)


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


def test_the_chart_value_label_sits_above_the_bars_not_on_them(app, client, shop):
    sign_in_as(app, client, "viewer")
    svg = page_text(client.get("/admin/dashboard")).split('<svg id="orders-chart"')[1].split("</svg>")[0]
    top_of_view = float(re.search(r'viewBox="[-0-9.]+ ([-0-9.]+)', svg).group(1))
    label = re.search(r'<text class="chart-label"[^>]*y="([-0-9.]+)" font-size="([0-9.]+)"[^>]*>most: 2<', svg)
    baseline, size = float(label.group(1)), float(label.group(2))
    highest_bar_top = min(float(y) for y in re.findall(r'<rect class="bar"[^>]*y="([-0-9.]+)"', svg))
    assert highest_bar_top == 0  # the busiest day fills the plot; here it is the last bar, under the label
    assert baseline < highest_bar_top  # the label's text ends above every bar…
    assert baseline - size >= top_of_view  # …and is inside the picture


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


def test_the_chart_writes_its_days_in_the_shops_locale_and_time_zone(app, client, shop):
    sign_in_as(app, client, "viewer")
    page = page_text(client.get("/admin/dashboard"))
    with app.app_context():
        store = get_store_settings()
        today = format_day(local_day(utcnow(), store.zone_name), store.locale)  # en_IN: '2 Jan 2026'
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4}", today)
    assert f"most on {today} with 2" in page
    assert f"<title>{today}: 2</title>" in page
    assert f'">{today}</time></th><td>2</td>' in page
    assert "midnight to midnight in Asia/Kolkata" in page
