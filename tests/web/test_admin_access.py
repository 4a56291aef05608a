"""Who may do what in the admin panel: every staff route (the admin and the WhatsApp sandbox) × every role,
plus signing in and out."""

import re

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from checkout.carriers.carriers import CarrierDraft, add_carrier
from checkout.extensions import db
from checkout.models import Contact, Conversation, Product, QuickReply, StaffUser
from checkout.shop.faq import FaqDraft, save_faq_entry
from checkout.staff.permissions import ROLE_PERMISSIONS, Permission
from tests.admin_helpers import PASSWORD, make_staff, sign_in
from tests.factories import make_coupon, make_order, make_product, make_store

# Routes open to anyone (signing in) or to any signed-in staff member whatever the role.
PUBLIC_ENDPOINTS = {"admin.login", "admin.media"}
ANY_STAFF_ENDPOINTS = {"admin.logout", "admin.account"}
# Blueprints whose every route is for staff: the admin and the sandbox's customer-phone screens.
STAFF_BLUEPRINTS = ("admin.", "sandbox.")


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox")  # the sandbox's routes exist (and are checked) only with it on


def admin_routes(app):
    """(endpoint, method, url rule, required permission) for every staff route the app has."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(STAFF_BLUEPRINTS):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule.rule, getattr(view, "required_permission", None)))
    return routes


@pytest.fixture
def world(app):
    with app.app_context():
        make_store()
        product = make_product("Cotton Kurta", stock=500, options=[{"Size": "M"}])
        coupon = make_coupon("WORLD")
        order = make_order([(product.variants[0], 1)], coupon_code="WORLD")
        for role in ROLE_PERMISSIONS:
            make_staff(role)
        entry = save_faq_entry(None, FaqDraft(question="Delivery?", keywords="delivery", answer="3–7 days."))
        chat = Conversation(contact=Contact(phone="+254712345678", name="Juma"), phone="+254712345678", name="Juma")
        quick_reply = QuickReply(title="Hours", body="We are open 9 to 6.")
        db.session.add_all([chat, quick_reply])
        db.session.commit()
        courier, _secret = add_carrier(CarrierDraft(name="shiprocket", preset="shiprocket"))
        values = {
            "reference": order.reference,
            "product_id": product.id,
            "variant_id": product.variants[0].id,
            "user_id": db.session.scalar(select(StaffUser.id).where(StaffUser.role == "viewer")),
            "filename": "nothing.png",
            "entry_id": entry.id,
            "coupon_id": coupon.id,
            "conversation_id": chat.id,
            "reply_id": quick_reply.id,
            "carrier_id": courier.id,
            "name": courier.name,
        }
        db.session.remove()
    return values


def fill(rule: str, values: dict) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        return str(values.get(name, 1))

    return re.sub(r"<([^>]+)>", value, rule)


def test_every_admin_route_declares_who_may_use_it(app):
    undeclared = [
        (endpoint, method)
        for endpoint, method, _rule, permission in admin_routes(app)
        if permission is None and endpoint not in PUBLIC_ENDPOINTS | ANY_STAFF_ENDPOINTS
    ]
    assert undeclared == []


def test_the_sandbox_screens_are_in_the_matrix_and_need_acting_as_a_customer(app):
    sandbox_routes = {(e, m): p for e, m, _r, p in admin_routes(app) if e.startswith("sandbox.")}
    assert {("sandbox.tap", "POST"), ("sandbox.send", "POST"), ("sandbox.new_chat", "POST")} <= set(sandbox_routes)
    assert set(sandbox_routes.values()) == {Permission.ACT_AS_CUSTOMER}
    assert {role for role, allowed in ROLE_PERMISSIONS.items() if Permission.ACT_AS_CUSTOMER in allowed} == {
        "owner",
        "manager",
    }


def test_the_discount_code_pages_are_in_the_matrix_for_owners_and_managers(app):
    routes = {e: p for e, _m, _r, p in admin_routes(app) if e.startswith("admin.coupon")}
    assert set(routes) == {
        "admin.coupons",
        "admin.coupon_new",
        "admin.coupon_pause",
        "admin.coupon_resume",
        "admin.coupon_usage",
        "admin.coupons_export",
    }
    assert set(routes.values()) == {Permission.MANAGE_COUPONS}
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.MANAGE_COUPONS in permissions}
    assert allowed == {"owner", "manager"}


def test_the_settings_pages_are_in_the_matrix_for_the_owner_only(app):
    routes = {(e, m): p for e, m, _r, p in admin_routes(app)}
    for route in [
        ("admin.settings", "POST"),
        ("admin.settings_messages", "GET"),
        ("admin.settings_messages", "POST"),
        ("admin.settings_chat_texts", "GET"),
        ("admin.settings_chat_texts", "POST"),
        ("admin.settings_couriers", "GET"),
        ("admin.settings_couriers", "POST"),
        ("admin.settings_courier_edit", "POST"),
        ("admin.settings_courier_secret", "POST"),
    ]:
        assert routes[route] == Permission.EDIT_SETTINGS, route


def test_the_faq_pages_are_in_the_matrix_for_owners_and_managers(app):
    faq_routes = {(e, m): p for e, m, _r, p in admin_routes(app) if e.startswith("admin.faq")}
    assert set(faq_routes) == {
        ("admin.faq_list", "GET"),
        ("admin.faq_new", "GET"),
        ("admin.faq_new", "POST"),
        ("admin.faq_edit", "GET"),
        ("admin.faq_edit", "POST"),
        ("admin.faq_delete", "POST"),
    }
    assert set(faq_routes.values()) == {Permission.MANAGE_FAQ}
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.MANAGE_FAQ in permissions}
    assert allowed == {"owner", "manager"}


def test_the_inbox_pages_are_in_the_matrix_for_everyone_who_answers_conversations(app):
    """Quick replies too: staff's own shortcuts, read and sent by a person each time (the FAQ is the bot's)."""
    routes = {(e, m): p for e, m, _r, p in admin_routes(app) if e.startswith(("admin.inbox", "admin.quick_repl"))}
    assert set(routes) == {
        ("admin.inbox_list", "GET"),
        ("admin.inbox_unread_count", "GET"),
        ("admin.inbox_conversation", "GET"),
        ("admin.inbox_reply", "POST"),
        ("admin.inbox_assign", "POST"),
        ("admin.inbox_take", "POST"),
        ("admin.inbox_hand_back", "POST"),
        ("admin.inbox_note", "POST"),
        ("admin.quick_replies", "GET"),
        ("admin.quick_reply_new", "GET"),
        ("admin.quick_reply_new", "POST"),
        ("admin.quick_reply_edit", "GET"),
        ("admin.quick_reply_edit", "POST"),
        ("admin.quick_reply_delete", "POST"),
    }
    assert set(routes.values()) == {Permission.ANSWER_CONVERSATIONS}
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.ANSWER_CONVERSATIONS in permissions}
    assert allowed == {"owner", "manager", "fulfilment"}


def test_refunds_are_in_the_matrix_and_need_approving_refunds(app):
    """Refunding from the order page, and the cancel form's "refund now" (checked in its view), are for the
    staff who may approve refunds: owners and managers."""
    routes = {(e, m): p for e, m, _r, p in admin_routes(app)}
    assert routes[("admin.order_refund", "POST")] == Permission.APPROVE_REFUNDS
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.APPROVE_REFUNDS in permissions}
    assert allowed == {"owner", "manager"}


def test_the_return_pages_are_in_the_matrix(app):
    """Everyone who reads orders sees returns and their photos; fulfilment staff decide and receive them; only
    those who may approve refunds refund them."""
    routes = {(e, m): p for e, m, _r, p in admin_routes(app) if e.startswith("admin.return")}
    assert routes == {
        ("admin.returns_list", "GET"): Permission.VIEW_ORDERS,
        ("admin.return_photo", "GET"): Permission.VIEW_ORDERS,
        ("admin.return_approve", "POST"): Permission.CHANGE_ORDER_STATUS,
        ("admin.return_reject", "POST"): Permission.CHANGE_ORDER_STATUS,
        ("admin.return_received", "POST"): Permission.CHANGE_ORDER_STATUS,
        ("admin.return_refund", "POST"): Permission.APPROVE_REFUNDS,
    }


def test_deciding_a_new_delivery_address_is_in_the_matrix_for_staff_who_edit_fulfilment(app):
    """Approving or rejecting the address a customer typed after a failed delivery changes where the parcel goes."""
    routes = {(e, m): p for e, m, _r, p in admin_routes(app)}
    assert routes[("admin.order_address_change", "POST")] == Permission.EDIT_FULFILMENT
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.EDIT_FULFILMENT in permissions}
    assert "viewer" not in allowed and "fulfilment" in allowed


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_role_matrix_every_route_is_allowed_or_forbidden_as_declared(app, world, role):
    client = app.test_client()
    assert sign_in(client, f"{role}@sunrise.example.com").status_code == 302
    checked = 0
    for endpoint, method, rule, permission in admin_routes(app):
        if permission is None or endpoint == "admin.logout":
            continue
        response = client.open(fill(rule, world), method=method, data={})
        allowed = permission in ROLE_PERMISSIONS[role]
        if allowed:
            assert response.status_code != 403, f"{role} refused {method} {rule}"
            assert response.status_code < 500, f"{role} got {response.status_code} on {method} {rule}"
        else:
            assert response.status_code == 403, f"{role} allowed {method} {rule} ({response.status_code})"
        checked += 1
    assert checked >= 10


def test_anonymous_visitors_are_sent_to_sign_in_for_every_staff_route(app, world):
    client = app.test_client()
    for endpoint, method, rule, _permission in admin_routes(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.open(fill(rule, world), method=method, data={})
        assert response.status_code == 302, f"{method} {rule}"
        assert "/admin/login" in response.headers["Location"]


def test_a_viewer_changes_nothing(app, world):
    client = app.test_client()
    sign_in(client, "viewer@sunrise.example.com")
    for _endpoint, method, rule, permission in admin_routes(app):
        if method == "POST" and permission is not None:
            client.post(fill(rule, world), data={"version": 1, "target": "confirmed", "name": "x", "note": "x"})
    with app.app_context():
        assert db.session.scalar(select(Product.name)) == "Cotton Kurta"
    page = client.get(f"/admin/orders/{world['reference']}").get_data(as_text=True)
    assert "Waiting for confirmation" in page and "Mark confirmed" not in page


def test_wrong_password_and_unknown_email_get_the_same_answer(app, world):
    client = app.test_client()
    wrong = client.post("/admin/login", data={"email": "owner@sunrise.example.com", "password": "nope nope nope"})
    unknown = client.post("/admin/login", data={"email": "who@sunrise.example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.get_data(as_text=True)
    assert client.get("/admin/orders").status_code == 302


def test_a_deactivated_account_cannot_sign_in(app, world):
    with app.app_context():
        make_staff("manager", email="gone@sunrise.example.com", active=False)
    client = app.test_client()
    assert sign_in(client, "gone@sunrise.example.com").status_code == 401


def test_an_account_hashed_with_scrypt_moves_to_pbkdf2_at_its_next_sign_in(app, world):
    """Older accounts keep working, and the 32 MiB scrypt check is paid once, not at every sign-in."""
    with app.app_context():
        user = make_staff("manager", email="early@sunrise.example.com")
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
        db.session.commit()
        user_id = user.id
    client = app.test_client()
    assert sign_in(client, "early@sunrise.example.com", password="not it").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(StaffUser.password_hash).where(StaffUser.id == user_id)).startswith("scrypt:")
    assert sign_in(client, "early@sunrise.example.com").status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(StaffUser.password_hash).where(StaffUser.id == user_id))
        assert stored.startswith(f"{app.config['PASSWORD_HASH_METHOD']}$") and check_password_hash(stored, PASSWORD)
    assert client.get("/admin/orders").status_code == 200


def test_sign_in_renews_the_session_and_sign_out_ends_it(app, world):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, "owner@sunrise.example.com")
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get("/admin/orders").status_code == 200
    client.post("/admin/logout")
    assert client.get("/admin/orders").status_code == 302


def test_sign_in_only_follows_same_site_next_links(app, world):
    client = app.test_client()
    response = client.post(
        "/admin/login?next=https://evil.example/steal",
        data={"email": "owner@sunrise.example.com", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/admin/"
    client.post("/admin/logout")
    response = client.post(
        "/admin/login?next=/admin/orders?status=pending",
        data={"email": "owner@sunrise.example.com", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/admin/orders?status=pending"


def test_sign_in_attempts_are_rate_limited(app, world):
    client = app.test_client()
    codes = [
        client.post("/admin/login", data={"email": "owner@sunrise.example.com", "password": "guess"}).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_missing_csrf_token_on_an_admin_form_is_a_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        make_staff("owner")
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "owner@sunrise.example.com", "password": PASSWORD})
    assert response.status_code == 400


# Routes for shoppers and embedders, not staff: a staff session neither opens nor closes them. Each answers every
# role exactly as it answers a visitor who is not signed in (the API by its key, never by a staff session).
SHOPPER_ROUTES = [
    ("storefront.payment_receipt", "GET", "/o/<token>/receipt/<int:payment_id>.pdf"),
    ("storefront.open_cart", "GET", "/cart/open/<token>"),
    ("storefront.keep_cart_code", "POST", "/cart/code"),
    ("api.create_cart", "POST", "/api/v1/carts"),
    ("api.read_cart", "GET", "/api/v1/carts/<token>"),
    ("api.add_cart_line", "POST", "/api/v1/carts/<token>/lines"),
    ("api.set_cart_line", "PUT", "/api/v1/carts/<token>/lines/<sku>"),
    ("api.remove_cart_line", "DELETE", "/api/v1/carts/<token>/lines/<sku>"),
    ("api.order_cart", "POST", "/api/v1/carts/<token>/order"),
    ("carrier_webhooks.receive", "POST", "/webhooks/carriers/<name>"),
    ("payment_webhooks.receive_stripe", "POST", "/webhooks/payments/stripe"),
    ("payment_webhooks.receive_razorpay", "POST", "/webhooks/payments/razorpay"),
    ("payment_webhooks.receive_mpesa", "POST", "/webhooks/payments/mpesa/<secret>"),
]


def test_the_shopper_routes_exist_and_answer_every_role_as_they_answer_a_visitor(app, world):
    rules = {(rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods}
    assert set(SHOPPER_ROUTES) <= rules
    values = {**world, "token": "no-such-cart", "sku": "NOPE"}

    def answers(client) -> list[int]:
        return [
            client.open(fill(rule, values), method=method, json={}).status_code for _, method, rule in SHOPPER_ROUTES
        ]

    visitor = answers(app.test_client())
    assert all(status < 500 and status != 403 for status in visitor), visitor
    for role in ROLE_PERMISSIONS:
        client = app.test_client()
        sign_in(client, f"{role}@sunrise.example.com")
        assert answers(client) == visitor, role
