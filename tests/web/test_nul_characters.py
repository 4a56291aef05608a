"""A NUL character anywhere a shopper, staff member or API client can type is a clear 400, never a 500.

PostgreSQL text columns cannot hold NUL, so without this guard such input would crash the request.
"""

import json

from sqlalchemy import func, select

from checkout.api import keys
from checkout.extensions import db
from checkout.models import Message, Order, WebhookEvent
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_product, make_store
from tests.messaging import payloads


def test_storefront_forms_and_searches_refuse_nul(app, client):
    with app.app_context():
        make_store()
        variant_id = make_product().variants[0].id
    client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1})
    response = client.post("/checkout", data={"name": "As\x00ha", "phone": "098765 43210"})
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert client.get("/?q=te%00a").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0
    assert "Product" in client.get("/cart").get_data(as_text=True)  # the cart is kept


def test_admin_search_refuses_nul(app, client):
    with app.app_context():
        make_store()
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    assert client.get("/admin/orders?q=%00").status_code == 400


def test_api_bodies_and_paths_refuse_nul(app, client):
    with app.app_context():
        make_store()
        _, secret = keys.create_key("k", "secret")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"items": [{"sku": "X"}], "customer": {"name": "A\u0000", "phone": "1"}}
    response = client.post(
        "/api/v1/orders", data=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    assert client.get("/api/v1/orders/AB%00CD", headers=headers).status_code == 400


def test_webhook_text_with_an_escaped_nul_is_stored_clean(app, client):
    with app.app_context():
        make_store()
    body = payloads.text("where\u0000 is my order", wa_id="919876543210")
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        webhooks.process_event(db.session.scalar(select(WebhookEvent.id)))
        assert db.session.scalar(select(Message.body_text).where(Message.direction == "in")) == "where is my order"
