"""Store API routes. Each one authenticates, parses, calls the order domain and answers JSON."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace

from flask import Response, current_app, g, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout import carts
from checkout.api import idempotency, keys
from checkout.api.blueprint import api_blueprint as bp
from checkout.api.errors import ApiError
from checkout.api.openapi import openapi_document
from checkout.api.order_input import (
    InvalidRequest,
    OrderRequest,
    parse_cart_checkout_request,
    parse_cart_item,
    parse_cart_items,
    parse_line_sku,
    parse_order_request,
    parse_quote_request,
    parse_set_quantity,
)
from checkout.api.serializers import cart_json, order_json, products_json, quote_json
from checkout.catalog.queries import list_active_products
from checkout.catalog.stock import availability
from checkout.database import utcnow
from checkout.extensions import db, limiter
from checkout.models.api import ApiKey
from checkout.models.coupons import CODE_MAX
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders import limits
from checkout.orders.checkout_keys import api_checkout_key
from checkout.orders.coupons import apply_code
from checkout.orders.documents import public_status_document
from checkout.orders.error_responses import api_error
from checkout.orders.errors import CartAlreadyOrdered, CartNotFound, CouponNotAccepted, OrderError
from checkout.orders.placing import find_order_by_checkout_key, place_order, quote_cart
from checkout.orders.status_page import find_order_by_token
from checkout.orders.validation import fulfilment_problems
from checkout.phones import whatsapp_digits
from checkout.shop.working_hours import is_open, next_opening
from checkout.web.json_errors import error_body
from checkout.whatsapp.consent import record_checkout_consent


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


def presents_a_secret_key() -> bool:
    """Server-to-server calls: one shop's back-office places every order from one address."""
    return (_presented_key() or "").startswith(keys.PREFIXES["secret"])


def authenticate(*, secret_only: bool) -> ApiKey:
    key = keys.find_active_key(_presented_key())
    if key is None:
        raise ApiError(401, "unauthorized", "Give a valid API key: 'Authorization: Bearer <key>'.")
    if key.kind == "widget":
        if secret_only:
            raise ApiError(403, "forbidden", "A widget key can only create carts and orders.")
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
@limits.per_address(exempt_when=presents_a_secret_key)
def create_order():
    key = authenticate(secret_only=False)
    body = _json_body()
    return _once_per_idempotency_key(key, body, lambda idempotency_key: _place(key, body, idempotency_key))


def _once_per_idempotency_key(key: ApiKey, fingerprinted: dict, place: Callable[[str | None], tuple[int, dict]]):
    """Run `place` once per Idempotency-Key: a repeat gets the first answer (see checkout/api/idempotency.py)."""
    idempotency_key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(idempotency_key) > idempotency.KEY_MAX:
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key can be at most 255 characters.")
    if not idempotency_key:
        status, payload = place(None)
        return jsonify(payload), status
    try:
        claim = idempotency.begin(key.id, idempotency_key, idempotency.request_fingerprint(fingerprinted))
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
        status, payload = place(idempotency_key)
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
    checkout_key = _checkout_key(key, idempotency_key)
    try:
        order = _place_for(key, parsed, parsed.lines, checkout_key, settings)
    except OrderError as error:
        return api_error(error)
    return 201, order_json(order, settings)


def _place_for(key: ApiKey, parsed: OrderRequest, lines, checkout_key: str, settings) -> Order:
    """Place the order a request asks for (within the phone's order limit), and keep the customer's consent."""
    with limits.per_phone(parsed.details.phone):
        order = place_order(
            lines=lines,
            details=parsed.details,
            settings=settings,
            checkout_key=checkout_key,
            source="website" if key.kind == "widget" else "api",
            external_reference=parsed.external_reference,
            coupon_code=parsed.coupon_code,
        )
    if parsed.consent:
        source = "widget" if key.kind == "widget" else "api"
        record_checkout_consent(order, source=source, wording=settings.consent_wording)
    return order


def _checkout_key(key: ApiKey, idempotency_key: str | None) -> str | None:
    if not idempotency_key:
        return None
    return api_checkout_key(key.id, idempotency_key, current_app.config["SECRET_KEY"])


# ---------------------------------------------------------------------------------------------------------------
# Carts: the widget's (and any client's) cart on the server, found by its token
# ---------------------------------------------------------------------------------------------------------------


def _cart_channel(key: ApiKey) -> str:
    return "widget" if key.kind == "widget" else "api"


def _delivery_choice() -> str:
    """How the cart is priced: `?delivery=delivery` (the default) or `pickup`."""
    fulfilment = request.args.get("delivery", "delivery")
    if fulfilment_problems(fulfilment, get_store_settings()):
        raise ApiError(422, "validation_failed", "Some fields are missing or wrong.", {"delivery": "Not offered."})
    return fulfilment


def _cart_answer(token: str, fulfilment: str, status: int = 200, notes=()):
    """The cart as it is now, priced; 404 if it is gone."""
    settings = get_store_settings()
    cart = carts.find_cart(token)
    if cart is None:
        raise CartNotFound()
    priced, coupon_error = _with_typed_code(carts.price_cart(cart, fulfilment, settings), settings)
    answer = cart_json(cart, priced, settings, notes)
    answer["coupon_error"] = coupon_error
    return jsonify(answer), status


def _with_typed_code(priced: carts.PricedCart, settings) -> tuple[carts.PricedCart, str | None]:
    """The cart priced with the discount code the shopper typed (`?coupon_code=`), or why the code does not apply.

    The code is checked without a phone (the per-customer limit is checked again when the order is placed).
    """
    typed = request.args.get("coupon_code", "")[:CODE_MAX]
    try:
        return replace(priced, quote=apply_code(priced.quote, typed, phone="", now=utcnow(), settings=settings)), None
    except CouponNotAccepted as refused:
        return priced, str(refused)


def _invalid(invalid: InvalidRequest) -> ApiError:
    return ApiError(422, "validation_failed", "Some fields are missing or wrong.", invalid.fields)


@bp.post("/carts")
@limiter.limit("120 per minute")  # per shopper's address: every shopper of a site shares its widget key
def create_cart():
    """A new cart (with its first items, if given); anything that could not be added is in its notes."""
    key = authenticate(secret_only=False)
    fulfilment = _delivery_choice()
    try:
        lines = parse_cart_items(_json_body() if request.content_length else None)
    except InvalidRequest as invalid:
        raise _invalid(invalid) from None
    cart = carts.start_cart(_cart_channel(key))
    notes = carts.add_items(cart.token, lines)
    return _cart_answer(cart.token, fulfilment, 201, notes)


@bp.get("/carts/<token>")
@limiter.limit("300 per minute")
def read_cart(token: str):
    authenticate(secret_only=False)
    return _cart_answer(token, _delivery_choice())


@bp.post("/carts/<token>/lines")
@limiter.limit("120 per minute")
def add_cart_line(token: str):
    """Add an item; the same item again adds to its line, up to what the shop has."""
    authenticate(secret_only=False)
    fulfilment = _delivery_choice()
    try:
        variant_id, quantity = parse_cart_item(_json_body())
    except InvalidRequest as invalid:
        raise _invalid(invalid) from None
    change = carts.add_item(token, variant_id, quantity)
    return _cart_answer(token, fulfilment, notes=[change.note] if change.note else [])


def _line_variant(token: str, sku: str) -> int:
    try:
        variant_id = parse_line_sku(sku)
    except InvalidRequest:
        variant_id = None
    cart = carts.find_cart(token)
    if cart is None:
        raise CartNotFound()
    if variant_id is None or all(line.variant_id != variant_id for line in cart.lines):
        raise ApiError(404, "not_found", f"This cart has no line {sku!r}.")
    return variant_id


@bp.put("/carts/<token>/lines/<sku>")
@limiter.limit("120 per minute")
def set_cart_line(token: str, sku: str):
    """Set a line's quantity (0 removes it); raising it stops at what the shop has."""
    authenticate(secret_only=False)
    fulfilment = _delivery_choice()
    try:
        quantity = parse_set_quantity(_json_body())
    except InvalidRequest as invalid:
        raise _invalid(invalid) from None
    change = carts.set_item_quantity(token, _line_variant(token, sku), quantity)
    return _cart_answer(token, fulfilment, notes=[change.note] if change and change.note else [])


@bp.delete("/carts/<token>/lines/<sku>")
@limiter.limit("120 per minute")
def remove_cart_line(token: str, sku: str):
    authenticate(secret_only=False)
    fulfilment = _delivery_choice()
    carts.remove_item(token, _line_variant(token, sku))
    return _cart_answer(token, fulfilment)


@bp.post("/carts/<token>/order")
@limiter.limit("60 per minute", key_func=rate_limit_key)
@limiter.limit("120 per minute")
@limits.per_address(exempt_when=presents_a_secret_key)
def order_cart(token: str):
    """Place the cart as a pending order, once: the same Idempotency-Key gets the same answer."""
    key = authenticate(secret_only=False)
    body = _json_body()
    fingerprinted = {"cart": token, "details": body}
    return _once_per_idempotency_key(
        key, fingerprinted, lambda idempotency_key: _place_cart(key, token, body, idempotency_key)
    )


def _place_cart(key: ApiKey, token: str, body: dict, idempotency_key: str | None) -> tuple[int, dict]:
    settings = get_store_settings()
    try:
        parsed = parse_cart_checkout_request(body, settings)
    except InvalidRequest as invalid:
        db.session.rollback()
        return 422, error_body("validation_failed", "Some fields are missing or wrong.", invalid.fields)
    checkout_key = _checkout_key(key, idempotency_key)
    existing = find_order_by_checkout_key(checkout_key)
    if existing is not None:  # placed by a try whose answer was lost: that order is the answer
        return 201, order_json(existing, settings)
    cart = carts.find_cart(token)
    try:
        if cart is None:
            raise CartNotFound()
        if cart.order_id is not None:
            raise CartAlreadyOrdered()
        cart_id = cart.id
        order = _place_for(key, parsed, carts.order_lines(cart), checkout_key, settings)
    except OrderError as error:
        return api_error(error)
    carts.mark_ordered(cart_id, order.id, name=parsed.details.name.strip(), phone=parsed.details.phone)
    return 201, order_json(order, settings)


@bp.post("/quote")
@limiter.limit("120 per minute")  # per shopper's address: every shopper of a site shares its widget key
def quote():
    """What a cart would cost now, subtotal, discount, delivery and total, priced by the same function as an order."""
    authenticate(secret_only=False)
    settings = get_store_settings()
    try:
        wanted = parse_quote_request(_json_body(), settings)
        priced = quote_cart(wanted.lines, wanted.fulfilment, settings, coupon_code=wanted.coupon_code)
    except InvalidRequest as invalid:
        raise ApiError(422, "validation_failed", "Some fields are missing or wrong.", invalid.fields) from None
    except OrderError as error:  # a discount code that can't be used, with its reason
        status, body = api_error(error)
        return jsonify(body), status
    return jsonify(quote_json(priced, settings))


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
    return jsonify(public_status_document(order, get_store_settings()))


@bp.get("/products")
@limiter.limit("300 per minute")
def products():
    settings = get_store_settings()
    found = list_active_products()
    body = json.dumps(products_json(found, availability(found), settings), sort_keys=True, separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@bp.get("/widget/config")
@limiter.limit("300 per minute")
def widget_config():
    """What the chat button needs: numbers to chat with, greeting, and whether anyone is there now."""
    settings = get_store_settings()
    origin = request.headers.get("Origin")
    if origin and origin not in (settings.allowed_origins or []):
        # Readable on that site, so the widget can tell its owner why it is only a chat button there.
        g.readable_refusal = True
        raise ApiError(
            403, "origin_not_allowed", f"{origin} is not one of the shop's allowed sites (Admin → Website plugin)."
        )
    key = keys.find_active_key(_presented_key())
    if key is None or key.kind != "widget":
        g.readable_refusal = True
        raise ApiError(401, "unauthorized", "Give the store's widget key: this one is unknown or revoked.")
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
            "consent_wording": settings.consent_wording,
            "consent_ticked": settings.consent_ticked_by_default,
        }
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app))


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", document=openapi_document(current_app))
