"""Store API routes. Each one authenticates, parses, calls the order domain and answers JSON."""

import hashlib
import json

from flask import Response, current_app, g, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout import catalog
from checkout.api import ApiError, error_body, idempotency, keys
from checkout.api import api_blueprint as bp
from checkout.api.openapi import openapi_document
from checkout.api.order_input import InvalidRequest, parse_order_request
from checkout.api.serializers import order_json, products_json, public_status_json
from checkout.database import utcnow
from checkout.extensions import db, limiter
from checkout.models.api import ApiKey
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders.errors import InvalidOrderDetails, OrderError, OutOfStock
from checkout.orders.placing import place_order
from checkout.orders.status_page import find_order_by_token
from checkout.phones import whatsapp_digits
from checkout.working_hours import is_open, next_opening


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Chatout-Widget-Key") or request.args.get("key")


def rate_limit_key() -> str:
    """Limits count per API key when one is presented, else per client address."""
    presented = _presented_key()
    if presented:
        return "key:" + hashlib.sha256(presented.encode()).hexdigest()[:16]
    return "ip:" + (request.remote_addr or "unknown")


def authenticate(*, secret_only: bool) -> ApiKey:
    key = keys.find_active_key(_presented_key())
    if key is None:
        raise ApiError(401, "unauthorized", "Give a valid API key: 'Authorization: Bearer <key>'.")
    if key.kind == "widget":
        if secret_only:
            raise ApiError(403, "forbidden", "A widget key can only create orders.")
        origin = request.headers.get("Origin")
        if origin not in (get_store_settings().allowed_origins or []):
            raise ApiError(403, "origin_not_allowed", "This site is not allowed to use the widget key.")
    key.last_used_at = utcnow()
    g.api_key = key
    return key


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_json", "The body must be JSON with Content-Type: application/json.")
    return data


@bp.post("/orders")
@limiter.limit("60 per minute", key_func=rate_limit_key)
@limiter.limit("120 per minute")
def create_order():
    key = authenticate(secret_only=False)
    body = _json_body()
    idempotency_key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(idempotency_key) > idempotency.KEY_MAX:
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key can be at most 255 characters.")
    if not idempotency_key:
        status, payload = _place(key, body, None)
        return jsonify(payload), status
    try:
        claim = idempotency.begin(key.id, idempotency_key, idempotency.request_fingerprint(body))
    except idempotency.KeyReused:
        raise ApiError(
            422, "idempotency_key_reused", "This Idempotency-Key was used with a different request."
        ) from None
    except idempotency.InFlight:
        raise ApiError(
            409, "request_in_progress", "A request with this Idempotency-Key is still being processed. Retry shortly."
        ) from None
    if isinstance(claim, idempotency.Replay):
        response = jsonify(claim.body)
        response.headers["Idempotent-Replayed"] = "true"
        return response, claim.status
    try:
        status, payload = _place(key, body, idempotency_key)
    except Exception:
        db.session.rollback()
        idempotency.finish(claim.id, 500, {})
        raise
    idempotency.finish(claim.id, status, payload)
    return jsonify(payload), status


def _place(key: ApiKey, body: dict, idempotency_key: str | None) -> tuple[int, dict]:
    settings = get_store_settings()
    try:
        parsed = parse_order_request(body, settings)
    except InvalidRequest as invalid:
        db.session.rollback()
        return 422, error_body("validation_failed", "Some fields are missing or wrong.", invalid.fields)
    checkout_key = (
        f"api:{key.id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}" if idempotency_key else None
    )
    try:
        order = place_order(
            lines=parsed.lines,
            details=parsed.details,
            settings=settings,
            checkout_key=checkout_key,
            source="website" if key.kind == "widget" else "api",
            external_reference=parsed.external_reference,
        )
    except OutOfStock as error:
        fields = {s.sku: f"Only {s.available} available." for s in error.shortages}
        return 409, error_body("out_of_stock", str(error), fields)
    except InvalidOrderDetails as error:
        return 422, error_body("validation_failed", error.message, {error.field: error.message})
    except OrderError as error:
        return 422, error_body("order_rejected", str(error))
    return 201, order_json(order, settings)


@bp.get("/orders/<reference>")
@limiter.limit("300 per minute", key_func=rate_limit_key)
def get_order(reference: str):
    authenticate(secret_only=True)
    order = db.session.scalar(
        select(Order).where(Order.reference == reference.upper()).options(selectinload(Order.lines))
    )
    if order is None:
        raise ApiError(404, "not_found", f"No order {reference!r}.")
    return jsonify(order_json(order, get_store_settings()))


@bp.get("/status/<token>")
@limiter.limit("120 per minute")
def order_status(token: str):
    order = find_order_by_token(token)
    if order is None:
        raise ApiError(404, "not_found", "No such order.")
    return jsonify(public_status_json(order))


@bp.get("/products")
@limiter.limit("300 per minute")
def products():
    settings = get_store_settings()
    found = catalog.list_active_products()
    body = json.dumps(
        products_json(found, catalog.availability(found), settings), sort_keys=True, separators=(",", ":")
    )
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@bp.get("/widget/config")
@limiter.limit("300 per minute")
def widget_config():
    """What the chat button needs: numbers to chat with, greeting, and whether anyone is there now."""
    key = keys.find_active_key(_presented_key())
    if key is None or key.kind != "widget":
        raise ApiError(401, "unauthorized", "Give the store's widget key.")
    settings = get_store_settings()
    numbers = [whatsapp_digits(n) for n in (settings.widget_numbers or [])] or [settings.whatsapp_digits]
    opening = next_opening(settings.working_hours or {})
    return jsonify(
        {
            "store_name": settings.name,
            "numbers": [n for n in numbers if n],
            "rotation": settings.widget_rotation,
            "greeting": settings.widget_greeting,
            "open_now": is_open(settings.working_hours or {}),
            "next_opening": opening.isoformat() if opening else None,
            "currency": settings.currency,
            "locale": settings.locale,
            "pickup_enabled": settings.pickup_enabled,
            "payment_methods": settings.payment_methods,
        }
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app))


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", document=openapi_document(current_app))
