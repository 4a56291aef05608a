"""The order desk through the Flask test client: list, filters, detail and every staff action."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from checkout.catalog import stock
from checkout.extensions import db
from checkout.models import Order, Variant
from checkout.models.orders import OPEN_STATUSES_SQL
from checkout.orders import queries
from checkout.orders.queries import PAGE_SIZE
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store


@pytest.fixture
def desk(app):
    """Three orders from different customers, an owner and a teammate; the client signed in as owner."""
    with app.app_context():
        make_store()
        variant = make_product("Cotton Kurta", price_minor=50000, stock=100).variants[0]
        orders = [
            make_order([(variant, 1)], details=customer(name="Asha Kumar", phone="+919876543210")),
            make_order([(variant, 2)], details=customer(name="Wanjiru Njeri", phone="+254712345678")),
            make_order(
                [(variant, 1)], details=customer(name="=HYPERLINK(1)", phone="+919812345678", payment_method="transfer")
            ),
        ]
        owner = make_staff("owner")
        mate = make_staff("fulfilment", name="Ravi")
        data = dict(refs=[o.reference for o in orders], variant=variant.id, mate=mate.id, owner=owner.email)
        db.session.remove()
    client = app.test_client()
    sign_in(client, data["owner"])
    data["client"] = client
    return data


def order(app, reference):
    with app.app_context():
        found = db.session.scalar(select(Order).where(Order.reference == reference))
        _ = (found.events, found.payments)  # load before the session closes
        db.session.expunge_all()
        return found


def version_of(app, reference) -> int:
    """The order's version now, as a freshly loaded page would carry it."""
    with app.app_context():
        return db.session.scalar(select(Order.version).where(Order.reference == reference))


def post_status(client, reference, target, version=None, **extra):
    version = version_of(client.application, reference) if version is None else version
    return client.post(
        f"/admin/orders/{reference}/status",
        data={"target": target, "version": version, **extra},
        headers={"HX-Request": "true"},
    )


def test_orders_list_has_status_tabs_with_counts(desk):
    page = desk["client"].get("/admin/orders").get_data(as_text=True)
    for reference in desk["refs"]:
        assert reference in page
    assert re.search(r"Waiting for confirmation <span class=\"count\">3</span>", page)
    assert re.search(r"Confirmed <span class=\"count\">0</span>", page)


def test_each_row_shows_how_many_items_the_order_has(desk):
    page = desk["client"].get("/admin/orders").get_data(as_text=True)
    rows = {ref: row for row in re.findall(r"<tr>.*?</tr>", page, re.S) for ref in desk["refs"] if ref in row}
    assert [re.findall(r"<td>(\d+)</td>", rows[ref]) for ref in desk["refs"]] == [["1"], ["2"], ["1"]]


def test_tab_counts_follow_the_other_filters_and_leave_history_uncounted(desk):
    """Open statuses are counted under the search; delivered, cancelled and "all" are history, never counted."""
    client = desk["client"]
    assert post_status(client, desk["refs"][0], "confirmed").status_code == 200
    assert post_status(client, desk["refs"][1], "cancelled", note="Customer asked").status_code == 200
    page = client.get("/admin/orders").get_data(as_text=True)
    assert re.search(r"Waiting for confirmation <span class=\"count\">1</span>", page)
    assert re.search(r"Confirmed <span class=\"count\">1</span>", page)
    assert re.search(r">All</a>", page) and re.search(r">Cancelled</a>", page) and re.search(r">Delivered</a>", page)
    searched = client.get("/admin/orders?q=wanjiru").get_data(as_text=True)
    assert re.search(r"Waiting for confirmation <span class=\"count\">0</span>", searched)
    assert ">1</span>" in client.get("/admin/orders/pending-count").get_data(as_text=True)


def test_tab_counts_state_the_open_orders_index_condition_word_for_word(app, desk):
    """A partial index serves a query only if the query repeats its condition as written, not as parameters."""
    statements = []
    with app.app_context():
        engine = db.engine

        def listener(conn, cursor, statement, *rest):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            counts = queries.status_counts(queries.OrderFilters(source="website", search="asha"))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert counts["pending"] == 1 and counts["delivered"] is None
    [count_sql] = [sql for sql in statements if "count(*)" in sql]
    assert OPEN_STATUSES_SQL in count_sql


@pytest.mark.parametrize(
    "query,expected",
    [("q=wanjiru", [1]), ("q=98123", [2]), ("q=+91 98765 43210", [0]), ("status=confirmed", []), ("source=api", [])],
)
def test_orders_can_be_found_by_name_phone_status_and_source(desk, query, expected):
    page = desk["client"].get(f"/admin/orders?{query}").get_data(as_text=True)
    assert [i for i, ref in enumerate(desk["refs"]) if ref in page] == expected


def test_search_by_reference_in_any_case(desk):
    reference = desk["refs"][1]
    page = desk["client"].get(f"/admin/orders?q={reference.lower().replace('-', '')}").get_data(as_text=True)
    assert reference in page and desk["refs"][0] not in page


def test_date_range_and_assignee_filters(app, desk):
    with app.app_context():
        first = db.session.scalar(select(Order).where(Order.reference == desk["refs"][0]))
        first.created_at = datetime.now(UTC) - timedelta(days=10)
        first.assigned_to_id = desk["mate"]
        db.session.commit()
    day = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    page = desk["client"].get(f"/admin/orders?from={day}&to={day}").get_data(as_text=True)
    assert desk["refs"][0] in page and desk["refs"][1] not in page
    page = desk["client"].get(f"/admin/orders?assigned={desk['mate']}").get_data(as_text=True)
    assert desk["refs"][0] in page and desk["refs"][2] not in page
    page = desk["client"].get("/admin/orders?assigned=none").get_data(as_text=True)
    assert desk["refs"][0] not in page and desk["refs"][2] in page


def test_junk_filters_show_everything_rather_than_fail(desk):
    response = desk["client"].get(
        "/admin/orders?status=lost&from=yesterday&to=2025-13-40&source=fax&after=%%%&assigned=x"
    )
    assert response.status_code == 200
    assert all(ref in response.get_data(as_text=True) for ref in desk["refs"])


def test_htmx_tab_switch_returns_only_the_desk(desk):
    response = desk["client"].get(
        "/admin/orders?status=pending", headers={"HX-Request": "true", "HX-Target": "order-desk"}
    )
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="order-desk">') and "<html" not in body


def test_keyset_pages_cover_every_order_once(app, desk):
    with app.app_context():
        variant = db.session.get(Variant, desk["variant"])
        for _ in range(PAGE_SIZE):
            make_order([(variant, 1)])
        total = len(db.session.scalars(select(Order.reference)).all())
    seen, url = [], "/admin/orders"
    while url:
        page = desk["client"].get(url).get_data(as_text=True)
        seen += re.findall(r'name="reference" value="([^"]+)"', page)
        older = re.search(r'href="([^"]+)"[^>]*>Older', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(seen) == total == PAGE_SIZE + 3 and len(set(seen)) == total


def test_order_detail_offers_only_allowed_next_steps(desk):
    page = desk["client"].get(f"/admin/orders/{desk['refs'][0]}").get_data(as_text=True)
    assert "Mark confirmed" in page and "Cancel order" in page
    assert "Mark shipped" not in page and "Mark delivered" not in page
    assert "Asha Kumar" in page and "https://wa.me/919876543210" in page
    assert "Beth House, Kasarani, House 16" in page
    assert desk["client"].get("/admin/orders/NOPE-NOPE").status_code == 404
    assert desk["client"].get("/admin/orders/%3Cscript%3E").status_code == 404


def version_on(response) -> int:
    """The order version the returned panel carries, as the next click would send it."""
    return int(re.search(r'name="version" value="(\d+)"', response.get_data(as_text=True)).group(1))


def test_walking_an_order_to_delivered_with_tracking_and_cod_collection(app, desk):
    client, reference = desk["client"], desk["refs"][0]
    response = post_status(client, reference, "confirmed")
    response = post_status(client, reference, "preparing", version_on(response))
    response = post_status(
        client,
        reference,
        "shipped",
        version_on(response),
        carrier="Delhivery",
        tracking_number="DL123456",
        tracking_url="https://track.example.com/DL123456",
    )
    assert response.status_code == 200 and "Shipped" in response.get_data(as_text=True)
    response = post_status(client, reference, "out_for_delivery", version_on(response))
    assert response.status_code == 200
    response = post_status(client, reference, "delivered", version_on(response))
    assert response.status_code == 200
    done = order(app, reference)
    assert (done.status, done.tracking_number, done.carrier) == ("delivered", "DL123456", "Delhivery")
    assert done.payment_status == "paid" and done.amount_paid_minor == done.total_minor
    kinds = [e.kind for e in done.events]
    assert kinds.count("status") == 5 and "fulfilment" in kinds and "payment" in kinds
    assert all(e.actor == "Owner" for e in done.events if e.kind == "status")


def test_a_stale_page_cannot_overwrite_a_newer_change(app, desk):
    client, reference = desk["client"], desk["refs"][0]
    seen = version_of(app, reference)
    post_status(client, reference, "confirmed")
    response = post_status(client, reference, "cancelled", seen, note="Customer asked")
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    assert order(app, reference).status == "confirmed"


def test_only_a_stale_page_offers_to_reload_the_order(app, desk):
    client, reference = desk["client"], desk["refs"][0]
    seen = version_of(app, reference)
    post_status(client, reference, "confirmed")
    reload_link = f'<a href="/admin/orders/{reference}">Reload</a>'
    assert reload_link in post_status(client, reference, "cancelled", seen, note="Customer asked").get_data(
        as_text=True
    )
    assert reload_link not in post_status(client, reference, "pending").get_data(as_text=True)


def test_forbidden_transition_is_refused_with_a_message(app, desk):
    response = post_status(desk["client"], desk["refs"][0], "delivered")
    assert response.status_code == 422
    assert "cannot become delivered" in response.get_data(as_text=True)
    assert post_status(desk["client"], desk["refs"][0], "teleported").status_code == 422
    assert order(app, desk["refs"][0]).status == "pending"


def test_cancelling_asks_for_a_reason_and_releases_stock(app, desk):
    client, reference = desk["client"], desk["refs"][1]
    assert post_status(client, reference, "cancelled").status_code == 422
    assert post_status(client, reference, "cancelled", note="Out of delivery area").status_code == 200
    with app.app_context():
        variant = db.session.get(Variant, desk["variant"])
        assert stock.available_quantities([variant])[variant.id] == 100 - 1 - 1
    assert order(app, reference).events[-1].note == "Out of delivery area"


def test_fulfilment_details_assignment_and_notes(app, desk):
    client, reference = desk["client"], desk["refs"][0]
    bad = client.post(
        f"/admin/orders/{reference}/fulfilment",
        data={"version": version_of(app, reference), "tracking_url": "javascript:alert(1)"},
    )
    assert bad.status_code == 422
    saved = client.post(
        f"/admin/orders/{reference}/fulfilment",
        data={
            "version": version_of(app, reference),
            "carrier": "Blue Dart",
            "tracking_number": "BD1",
            "expected_delivery_date": "2026-12-01",
        },
    )
    assert saved.status_code == 303
    assigned = client.post(
        f"/admin/orders/{reference}/assign", data={"version": version_of(app, reference), "assignee": str(desk["mate"])}
    )
    assert assigned.status_code == 303
    noted = client.post(f"/admin/orders/{reference}/notes", data={"note": "Customer prefers evening delivery"})
    assert noted.status_code == 303
    assert client.post(f"/admin/orders/{reference}/notes", data={"note": "  "}).status_code == 422
    assert (
        client.post(
            f"/admin/orders/{reference}/assign", data={"version": version_of(app, reference), "assignee": "9999"}
        ).status_code
        == 422
    )
    done = order(app, reference)
    assert (done.carrier, done.tracking_number, str(done.expected_delivery_date)) == ("Blue Dart", "BD1", "2026-12-01")
    assert done.assigned_to_id == desk["mate"]
    assert [e.kind for e in done.events][-3:] == ["fulfilment", "assigned", "note"]


def test_order_page_keeps_the_version_hidden_and_every_id_unique(desk):
    page = desk["client"].get(f"/admin/orders/{desk['refs'][0]}").get_data(as_text=True)
    version_inputs = re.findall(r"<input[^>]*name=\"version\"[^>]*>", page)
    assert len(version_inputs) >= 2  # status, fulfilment, assignment… each carries the version
    assert all('type="hidden"' in tag for tag in version_inputs), version_inputs
    ids = re.findall(r"\sid=\"([^\"]+)\"", page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_payments_partial_full_overpaid_and_refunded(app, desk):
    client, reference = desk["client"], desk["refs"][2]  # ₹500 + ₹50 delivery
    pay = lambda version, amount: client.post(  # noqa: E731
        f"/admin/orders/{reference}/payments",
        data={"version": version_of(app, reference), "method": "upi", "amount": amount, "reference": "UPI77"},
    )
    assert pay(1, "200").status_code == 303
    assert order(app, reference).payment_status == "partially_paid"
    assert pay(2, "400").status_code == 422  # more than the ₹350 balance
    assert pay(2, "abc").status_code == 422
    assert pay(2, "-5").status_code == 422
    assert pay(2, "350.00").status_code == 303
    assert order(app, reference).payment_status == "paid"
    refund = client.post(
        f"/admin/orders/{reference}/refunds",
        data={"version": version_of(app, reference), "amount": "550", "reason": "Damaged"},
    )
    assert refund.status_code == 303
    done = order(app, reference)
    assert (done.payment_status, done.amount_paid_minor) == ("refunded", 0)
    # The whole order back, from the newest payment first: one refund row per payment it came from.
    assert [(p.kind, p.amount_minor, p.refund_of_id) for p in done.payments] == [
        ("payment", 20000, None),
        ("payment", 35000, None),
        ("refund", 35000, done.payments[1].id),
        ("refund", 20000, done.payments[0].id),
    ]
    assert done.amount_refunded_minor == 55000 and done.balance_minor == 0


def test_payment_form_starts_at_the_balance_due_and_reads_it_back(app, desk):
    client, reference = desk["client"], desk["refs"][1]  # 2 × ₹500 + ₹50 delivery
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert re.search(r'name="amount"[^>]*value="1,050.00"', page)
    response = client.post(
        f"/admin/orders/{reference}/payments",
        data={"version": version_of(app, reference), "method": "cash", "amount": "1,050.00"},
    )
    assert response.status_code == 303
    assert order(app, reference).payment_status == "paid"


@pytest.mark.parametrize(
    ("amount", "minor"), [("₹200", 20000), ("200.5", 20050), ("₹1,000.00", 100000), ("1,000", 100000)]
)
def test_payments_are_read_as_the_shop_writes_amounts(app, desk, amount, minor):
    client, reference = desk["client"], desk["refs"][1]  # balance ₹1,050, shop locale en_IN
    response = client.post(
        f"/admin/orders/{reference}/payments",
        data={"version": version_of(app, reference), "method": "upi", "amount": amount},
    )
    assert response.status_code == 303
    assert [p.amount_minor for p in order(app, reference).payments] == [minor]


@pytest.mark.parametrize("amount", ["2,00.00", "5.844,00", "$200"])
def test_amounts_written_another_way_are_refused_not_guessed(app, desk, amount):
    client, reference = desk["client"], desk["refs"][1]
    response = client.post(
        f"/admin/orders/{reference}/payments",
        data={"version": version_of(app, reference), "method": "upi", "amount": amount},
    )
    assert response.status_code == 422
    assert "is not an amount; write it like 5844 or 5,844.50." in response.get_data(as_text=True)
    assert order(app, reference).payments == []


@pytest.mark.parametrize("amount", ["1e999997", "1e400000", "1e1000000", "12.345", "NaN"])
def test_amounts_with_exponents_or_too_many_decimals_are_form_errors(app, desk, amount):
    client, reference = desk["client"], desk["refs"][2]
    paid = client.post(
        f"/admin/orders/{reference}/payments",
        data={"version": version_of(app, reference), "method": "upi", "amount": "550"},
    )
    assert paid.status_code == 303
    for path, extra in (("payments", {"method": "upi"}), ("refunds", {"reason": "Damaged"})):
        response = client.post(
            f"/admin/orders/{reference}/{path}",
            data={"version": version_of(app, reference), "amount": amount, **extra},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "is not an amount" in page or "INR amounts have at most 2 decimals." in page
    assert [p.amount_minor for p in order(app, reference).payments] == [55000]


def test_bulk_marking_moves_what_may_move_and_says_what_did_not(app, desk):
    client = desk["client"]
    post_status(client, desk["refs"][0], "confirmed")
    response = client.post(
        "/admin/orders/bulk", data={"target": "preparing", "reference": desk["refs"][:2]}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "1 order(s) marked being prepared" in page
    assert f"{desk['refs'][1]} not changed" in page
    assert [order(app, r).status for r in desk["refs"]] == ["preparing", "pending", "pending"]
    bulk_cancel = client.post("/admin/orders/bulk", data={"target": "cancelled", "reference": desk["refs"]})
    assert bulk_cancel.status_code == 302
    assert order(app, desk["refs"][2]).status == "pending"


def test_csv_export_follows_the_filters_and_neutralises_formulas(desk):
    response = desk["client"].get("/admin/orders/export.csv?q=hyperlink")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "reference" and len(rows) == 2
    assert rows[1][0] == desk["refs"][2]
    assert rows[1][4] == "'=HYPERLINK(1)"


def test_new_orders_notice_fires_a_browser_event(app, desk):
    client = desk["client"]
    quiet = client.get("/admin/orders/new?since=999999")
    assert "HX-Trigger" not in quiet.headers and "new order" not in quiet.get_data(as_text=True)
    with app.app_context():
        newest = db.session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1))
    response = client.get(f"/admin/orders/new?since={newest - 2}")
    assert "2 new orders" in response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"]) == {"chatout:new-orders": 2}
    assert ">3<" in client.get("/admin/orders/pending-count").get_data(as_text=True)


def test_fulfilment_staff_cannot_take_or_refund_money(app, desk):
    client = app.test_client()
    with app.app_context():
        from checkout.models import StaffUser

        email = db.session.get(StaffUser, desk["mate"]).email
    sign_in(client, email)
    reference = desk["refs"][0]
    assert post_status(client, reference, "confirmed").status_code == 200
    version = version_of(app, reference)
    paid = client.post(
        f"/admin/orders/{reference}/payments", data={"version": version, "method": "cash", "amount": "1"}
    )
    assert paid.status_code == 403
    assert client.get("/admin/orders/export.csv").status_code == 403
    assert order(app, reference).amount_paid_minor == 0


def test_anonymous_visitors_are_sent_to_sign_in(app, desk):
    response = app.test_client().get(f"/admin/orders/{desk['refs'][0]}")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    posted = app.test_client().post(
        f"/admin/orders/{desk['refs'][0]}/status", data={"target": "confirmed", "version": 1}
    )
    assert posted.status_code == 302
    assert order(app, desk["refs"][0]).status == "pending"
