"""Who may post to /webhooks/carriers/<name>: the courier with its signature or token, nobody else; and what a
body that cannot be read does (a 400, nothing stored)."""

import json

import pytest
from sqlalchemy import func, select

from checkout.carriers import carriers
from checkout.extensions import db
from checkout.models import Carrier, CarrierEvent, Order
from tests.carriers.couriers import (
    AWB,
    add_courier,
    generic_body,
    order_with_the_courier,
    post_signed,
    post_token,
    shiprocket_body,
)


@pytest.fixture
def couriers(app):
    with app.app_context():
        order_id = order_with_the_courier()
        signing = add_courier("generic", name="swift")
        shiprocket = add_courier("shiprocket")
        delhivery = add_courier("delhivery")
        db.session.remove()
    return {"order_id": order_id, "swift": signing, "shiprocket": shiprocket, "delhivery": delhivery}


def stored_events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(CarrierEvent.id)))


def status_of(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).status


def test_a_body_signed_with_the_couriers_secret_is_stored_and_processed(client, app, couriers):
    name, secret = couriers["swift"]
    response = post_signed(client, name, secret, generic_body("PICKED", "evt-1"))
    assert response.status_code == 200 and response.json == {"status": "received", "outcome": "moved"}
    assert stored_events(app) == 1 and status_of(app, couriers["order_id"]) == "shipped"


@pytest.mark.parametrize("form", ["sha256=hex", "base64"])
def test_the_signature_may_come_prefixed_or_in_base64(client, app, couriers, form):
    import base64
    import hashlib
    import hmac

    name, secret = couriers["swift"]
    raw = json.dumps(generic_body("PICKED", "evt-2")).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    value = "sha256=" + digest.hex() if form == "sha256=hex" else base64.b64encode(digest).decode()
    assert client.post(f"/webhooks/carriers/{name}", data=raw, headers={"X-Signature": value}).status_code == 200


@pytest.mark.parametrize("signature", ["wrong", "", None, "other-secret"])
def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(client, app, couriers, signature):
    name, secret = couriers["swift"]
    raw = json.dumps(generic_body("PICKED", "evt-3")).encode()
    headers = {}
    if signature == "other-secret":
        headers["X-Signature"] = carriers.sign(raw, "not the secret")
    elif signature is not None:
        headers["X-Signature"] = signature
    response = client.post(f"/webhooks/carriers/{name}", data=raw, headers=headers)
    assert response.status_code == 401
    assert stored_events(app) == 0 and status_of(app, couriers["order_id"]) == "preparing"


def test_a_body_changed_after_signing_is_refused(client, app, couriers):
    name, secret = couriers["swift"]
    raw = json.dumps(generic_body("PICKED", "evt-4")).encode()
    tampered = raw.replace(b"PICKED", b"DLVD  ")
    response = client.post(
        f"/webhooks/carriers/{name}", data=tampered, headers={"X-Signature": carriers.sign(raw, secret)}
    )
    assert response.status_code == 401 and stored_events(app) == 0


def test_a_token_in_the_couriers_header_or_the_query_is_accepted(client, app, couriers):
    name, secret = couriers["shiprocket"]
    assert post_token(client, name, secret, shiprocket_body("PICKED UP")).status_code == 200
    assert post_token(client, name, secret, shiprocket_body("IN TRANSIT"), in_query=True).status_code == 200
    delhivery, delhivery_secret = couriers["delhivery"]
    body = {"Shipment": {"AWB": AWB, "Status": {"Status": "Manifested", "StatusType": "UD"}}}
    assert post_token(client, delhivery, f"Bearer {delhivery_secret}", body, header="Authorization").status_code == 200
    assert stored_events(app) == 3


@pytest.mark.parametrize("token", ["wrong", "", None])
def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(client, app, couriers, token):
    name, _secret = couriers["shiprocket"]
    assert post_token(client, name, token, shiprocket_body("DELIVERED")).status_code == 401
    assert post_token(client, name, token, shiprocket_body("DELIVERED"), in_query=True).status_code == 401
    assert stored_events(app) == 0 and status_of(app, couriers["order_id"]) == "preparing"


def test_another_couriers_secret_does_not_open_this_courier(client, app, couriers):
    name, _ = couriers["shiprocket"]
    _, delhivery_secret = couriers["delhivery"]
    assert post_token(client, name, delhivery_secret, shiprocket_body("DELIVERED")).status_code == 401


def test_an_unknown_or_switched_off_courier_is_not_found(client, app, couriers):
    name, secret = couriers["shiprocket"]
    assert post_token(client, "nobody", secret, shiprocket_body("DELIVERED")).status_code == 404
    with app.app_context():
        db.session.scalar(select(Carrier).where(Carrier.name == name)).active = False
        db.session.commit()
    assert post_token(client, name, secret, shiprocket_body("DELIVERED")).status_code == 404
    assert stored_events(app) == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'"just a string"', b"[1, 2]", '{"awb": "1"}'.encode("utf-16"), b"[" * 500 + b"]" * 500],
)
def test_a_body_that_is_not_a_json_object_is_a_400_with_nothing_written(client, app, couriers, raw):
    name, secret = couriers["swift"]
    response = client.post(f"/webhooks/carriers/{name}", data=raw, headers={"X-Signature": carriers.sign(raw, secret)})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_payload"
    assert stored_events(app) == 0 and status_of(app, couriers["order_id"]) == "preparing"


def test_the_webhook_needs_no_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        order_with_the_courier()
        name, secret = add_courier("shiprocket")
    response = post_token(app.test_client(), name, secret, shiprocket_body("PICKED UP"))
    assert response.status_code == 200 and response.json["outcome"] == "moved"
