"""SQL query budgets for the hot pages and endpoints (as Saleor pins them): a regression fails CI.

Each page is measured twice, with a small and a larger data set; the count must not grow with the
data (no N+1) and must stay within its budget.
"""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from checkout import outbox
from checkout.api import keys
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, Conversation, Order, StaffUser, Variant
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads


@contextmanager
def counting(app):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def shop_with(app, products: int, orders: int):
    with app.app_context():
        make_store()
        variants = []
        for index in range(products):
            product = make_product(f"Product {index}", stock=1000, options=[{"Size": "M"}, {"Size": "L"}])
            variants.append(product.variants[0])
        made = [
            make_order(
                [(variants[i % products], 1), (variants[(i + 1) % products], 2)], details=customer(name=f"Customer {i}")
            )
            for i in range(orders)
        ]
        outbox.run_due()
        make_staff("owner")
        _, secret = keys.create_key("budget", "secret")
        db.session.commit()
        return {
            "slug": variants[0].product.slug,
            "variant": variants[0].id,
            "reference": made[0].reference,
            "token": made[0].status_token,
            "secret": secret,
        }


def measure(app, data, page: str) -> int:
    client = app.test_client()
    if page.startswith("admin") or page == "webhook":
        sign_in(client, "owner@sunrise.example.com")
    if page in ("cart", "checkout_page", "checkout_post"):
        client.post("/cart/add", data={"variant_id": data["variant"], "quantity": 1})
    requests = {
        "catalog": lambda: client.get("/"),
        "catalog_cached": lambda: client.get("/"),
        "product": lambda: client.get(f"/p/{data['slug']}"),
        "cart": lambda: client.get("/cart"),
        "checkout_page": lambda: client.get("/checkout"),
        "handoff": lambda: client.get(f"/o/{data['token']}/whatsapp"),
        "status_page": lambda: client.get(f"/o/{data['token']}"),
        "admin_orders": lambda: client.get("/admin/orders"),
        "admin_search": lambda: client.get("/admin/orders?q=customer&status=pending"),
        "admin_order": lambda: client.get(f"/admin/orders/{data['reference']}"),
        "admin_dashboard": lambda: client.get("/admin/dashboard"),
        "api_products": lambda: client.get("/api/v1/products"),
        "webhook": lambda: payloads.post_signed(client, app, payloads.text("hi", wa_id="919876543210")),
    }
    if page == "checkout_post":
        form = client.get("/checkout").get_data(as_text=True)
        hidden = dict(re.findall(r'name="(checkout_key|expected_subtotal)" type="hidden" value="([^"]*)"', form))
        body = {
            "name": "Asha",
            "phone": "098765 43210",
            "fulfilment": "delivery",
            "address": "Beth House",
            "payment_method": "cod",
            **hidden,
        }
        requests["checkout_post"] = lambda: client.post("/checkout", data=body)
    if page == "api_order":
        body = {
            "items": [{"sku": f"{db_sku(app, data)}", "quantity": 1}],
            "customer": {"name": "Asha", "phone": "098765 43210", "address": "Beth House"},
        }
        requests["api_order"] = lambda: client.post(
            "/api/v1/orders", json=body, headers={"Authorization": f"Bearer {data['secret']}"}
        )
    if page == "catalog_cached":  # a visitor after the first: the rendered catalog is reused
        client.get("/")
    with counting(app) as statements:
        response = requests[page]()
    assert response.status_code < 400, (page, response.status_code)
    return len(statements)


def db_sku(app, data) -> str:
    with app.app_context():
        return db.session.get(Variant, data["variant"]).sku


BUDGETS = {
    "catalog": 5,
    "catalog_cached": 0,
    "product": 4,
    # The cart is read in one query (lines, variants and products joined): fewer than from the cookie.
    "cart": 3,
    "checkout_page": 5,  # 4, and the checkout's start written on the cart once
    # 17 + the one aggregate of the units the phone holds in pending orders, + the cart's own read and the one
    # UPDATE that links it to its order (with the name and number typed).
    "checkout_post": 20,
    "handoff": 5,  # 4 + the one conditional UPDATE that keeps the page's first opening for the funnel
    "status_page": 5,  # + the order's cart, for "Open this cart again"
    # Admin pages: +1 for the layout's "is WhatsApp sending paused?" banner (one indexed row lookup).
    "admin_orders": 7,
    "admin_search": 7,
    "admin_order": 11,
    # sign-in and banner, settings, 2 period totals, 2 for the waiting list, 2 funnel, 1 chart, 1 won back by reminders
    "admin_dashboard": 11,
    "api_products": 4,
    "api_order": 22,  # 21 + the same aggregate
    "webhook": 1,
}


@pytest.mark.parametrize("page", list(BUDGETS))
def test_query_count_stays_within_budget_and_does_not_grow_with_data(make_app, page):
    small_app = make_app()
    small = shop_with(small_app, products=2, orders=2)
    small_count = measure(small_app, small, page)
    with small_app.app_context():
        db.session.remove()
    # Same database, more data: the count must be the same.
    with small_app.app_context():
        more_variants = [
            make_product(f"More {i}", stock=1000, options=[{"Size": "S"}, {"Size": "XL"}]).variants[0]
            for i in range(12)
        ]
        for i in range(12):
            make_order([(more_variants[i], 1), (more_variants[(i + 1) % 12], 1)])
        outbox.run_due()
        db.session.commit()
        order = db.session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
        small.update(reference=order.reference, token=order.status_token)
    large_count = measure(small_app, small, page)
    print(f"{page}: {small_count} → {large_count} queries (budget {BUDGETS[page]})")
    assert large_count == small_count, f"{page} makes more queries with more data: N+1?"
    assert large_count <= BUDGETS[page]


# The inbox: a page of conversations (each filter) and the navigation's unread badge read the same number of
# statements whatever the number of conversations: signed-in staff, the shop's settings (time zone) and the
# sending-pause banner, the page's rows with their assignees (one join), and which of the listed numbers have an
# open order (one IN query).
INBOX_BUDGETS = {
    "/admin/inbox": 5,
    "/admin/inbox?show=unread": 5,
    "/admin/inbox?show=mine": 5,
    "/admin/inbox?show=unassigned": 5,
    "/admin/inbox?show=waiting": 5,
    "/admin/inbox?show=open_order": 5,
    "/admin/inbox?q=asha": 5,
    "/admin/inbox/unread-count": 3,  # signed-in staff, the count, the settings every template gets (no banner)
}


def add_conversations(app, count: int, start: int) -> None:
    """`count` customers who wrote: every other one unread, every third assigned, every fifth with a person."""
    with app.app_context():
        owner_id = db.session.scalar(select(StaffUser.id).limit(1))
        for number in range(start, start + count):
            phone = f"+9198765{number:05d}"
            contact = Contact(phone=phone, name=f"Asha {number}")
            db.session.add(
                Conversation(
                    contact=contact,
                    phone=phone,
                    name=f"Asha {number}",
                    unread_count=number % 2,
                    assigned_to_id=owner_id if number % 3 == 0 else None,
                    last_preview=f"Message {number}",
                    handled_by="person" if number % 5 == 0 else "bot",
                    waiting_since=utcnow() if number % 5 == 0 else None,
                )
            )
        db.session.commit()


@pytest.mark.parametrize("url", list(INBOX_BUDGETS))
def test_inbox_query_count_stays_within_budget_and_does_not_grow_with_conversations(make_app, url):
    app = make_app()
    shop_with(app, products=2, orders=2)
    add_conversations(app, 3, start=0)
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")

    def count() -> int:
        with counting(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    with app.app_context():
        make_order([(db.session.scalar(select(Variant)), 1)], details=customer(phone="+919876500000"))
    small = count()
    add_conversations(app, 60, start=100)
    with app.app_context():
        for number in range(100, 160, 2):
            make_order([(db.session.scalar(select(Variant)), 1)], details=customer(phone=f"+9198765{number:05d}"))
    large = count()
    print(f"{url}: {small} → {large} queries (budget {INBOX_BUDGETS[url]})")
    assert large == small, f"{url} makes more queries with more conversations: N+1?"
    assert large <= INBOX_BUDGETS[url]
