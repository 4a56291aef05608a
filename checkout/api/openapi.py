"""The Store API's OpenAPI 3.1 description. A test checks it names every route the blueprint has."""

from checkout.models.coupons import CODE_MAX
from checkout.orders.error_responses import RESPONSES
from checkout.orders.errors import ErrorCode
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY

# The error codes a refused discount code answers with (422, or 409 once it is used up).
COUPON_REFUSALS = [RESPONSES[code].api_code for code in ErrorCode if code.value.startswith("coupon_")]

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "examples": ["validation_failed"]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

ITEM = {
    "type": "object",
    "properties": {
        "sku": {
            "type": "string",
            "maxLength": 64,
            "description": "A variant SKU (or the SKU of a product without options).",
        },
        "product_id": {"type": "integer"},
        "options": {"type": "object", "additionalProperties": {"type": "string"}, "examples": [{"Size": "M"}]},
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_LINE_QUANTITY, "default": 1},
    },
}

COUPON_CODE = {
    "type": "string",
    "maxLength": CODE_MAX,
    "description": "A discount code (any case). A code that can't be used is refused with its reason: "
    + ", ".join(COUPON_REFUSALS)
    + "; the message is under `fields.coupon_code`.",
    "examples": ["WELCOME10"],
}

ORDER_REQUEST = {
    "type": "object",
    "required": ["items", "customer"],
    "properties": {
        "items": {"type": "array", "minItems": 1, "maxItems": MAX_CART_LINES, "items": ITEM},
        "customer": {
            "type": "object",
            "required": ["name", "phone"],
            "properties": {
                "name": {"type": "string", "maxLength": 80},
                "phone": {
                    "type": "string",
                    "maxLength": 32,
                    "description": "Any format; the store's region is the default.",
                },
                "address": {
                    "type": "string",
                    "maxLength": 500,
                    "description": "Required for delivery; kept exactly as given.",
                },
            },
        },
        "delivery": {"type": "string", "enum": ["delivery", "pickup"], "default": "delivery"},
        "payment_method": {
            "type": "string",
            "description": "One of the store's payment methods, e.g. cod or transfer.",
        },
        "note": {"type": "string", "maxLength": 500},
        "external_reference": {"type": "string", "maxLength": 64},
        "coupon_code": COUPON_CODE,
        "consent": {
            "type": "boolean",
            "default": False,
            "description": (
                "The customer ticked the shop's consent wording (`consent_wording` in /widget/config) to get order "
                "updates and reminders on WhatsApp. Recorded with that wording; without it no reminder is sent."
            ),
        },
    },
}

LINE = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "options": {"type": "string"},
        "quantity": {"type": "integer"},
        "unit_price_minor": {"type": "integer"},
        "line_total_minor": {"type": "integer"},
    },
}

_NULLABLE_TEXT = {"type": ["string", "null"]}
DELIVERY = {
    "type": "object",
    "description": "Carrier, tracking, expected date, delivery window and agent; null where not known.",
    "properties": {
        "carrier": _NULLABLE_TEXT,
        "tracking_number": _NULLABLE_TEXT,
        "tracking_url": _NULLABLE_TEXT,
        "expected_date": {"type": ["string", "null"], "format": "date"},
        "expected_date_display": {"type": "string"},
        "window_start": {"type": ["string", "null"], "format": "date-time", "description": "UTC."},
        "window_end": {"type": ["string", "null"], "format": "date-time", "description": "UTC."},
        "window_display": {
            "type": "string",
            "description": "In the shop's time zone, e.g. '1 Dec 2026, 2:00 pm–5:00 pm'.",
        },
        "agent_name": _NULLABLE_TEXT,
        "agent_phone": {"type": ["string", "null"], "description": "E.164."},
    },
}

ORDER = {
    "type": "object",
    "required": ["reference", "status", "currency", "total_minor", "status_url", "lines"],
    "properties": {
        "reference": {"type": "string", "examples": ["7KM3-Q9XA"]},
        "status": {"type": "string"},
        "status_label": {"type": "string"},
        "source": {"type": "string", "enum": ["website", "whatsapp", "api"]},
        "currency": {"type": "string"},
        "subtotal_minor": {"type": "integer"},
        "delivery_fee_minor": {"type": "integer", "description": "0 when a free-delivery code waived it."},
        "discount_minor": {"type": "integer", "description": "What the discount code took off the items."},
        "delivery_discount_minor": {"type": "integer", "description": "The delivery fee a free-delivery code waived."},
        "coupon_code": {"type": ["string", "null"], "description": "The discount code the order used."},
        "total_minor": {
            "type": "integer",
            "description": "Integer minor units of `currency` (paise, cents): subtotal - discount + delivery fee.",
        },
        "amount_paid_minor": {"type": "integer"},
        "subtotal_display": {"type": "string"},
        "delivery_fee_display": {"type": "string"},
        "discount_display": {"type": "string"},
        "total_display": {"type": "string"},
        "lines": {"type": "array", "items": LINE},
        "status_url": {"type": "string", "format": "uri"},
        "created_at": {"type": "string", "format": "date-time"},
        "fulfilment": {"type": "string"},
        "delivery_address": {"type": "string"},
        "payment_method": {"type": "string"},
        "payment_status": {"type": "string"},
        "external_reference": {"type": "string"},
        "customer": {"type": "object"},
        "delivery": DELIVERY,
        "whatsapp": {
            "type": "object",
            "properties": {
                "summary": {"type": "string"},
                "app_url": {"type": "string"},
                "web_url": {"type": "string"},
                "api_url": {"type": "string"},
                "qr_url": {"type": "string"},
            },
        },
    },
}

PUBLIC_STATUS = {
    "type": "object",
    "properties": {
        "reference": {"type": "string"},
        "status": {"type": "string"},
        "status_label": {"type": "string"},
        "currency": {"type": "string"},
        "total_minor": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object"}},
        "timeline": {"type": "array", "items": {"type": "object"}},
        "delivery": DELIVERY,
    },
}

PRODUCTS = {
    "type": "object",
    "properties": {
        "currency": {"type": "string"},
        "products": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "sku": {"type": "string"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "category": {"type": ["string", "null"]},
                    "image_url": {"type": ["string", "null"]},
                    "url": {"type": "string"},
                    "kind": {
                        "type": "string",
                        "enum": ["goods", "service"],
                        "description": "service: time in the shop's WhatsApp chat, never sold out; it starts with "
                        "the shop's first reply after payment.",
                    },
                    "duration_minutes": {
                        "type": ["integer", "null"],
                        "description": "A service's minutes per unit; null for goods.",
                    },
                    "variants": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "sku": {"type": "string"},
                                "options": {"type": "object"},
                                "price_minor": {"type": "integer"},
                                "price_display": {"type": "string"},
                                "available": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        },
    },
}

QUOTE_REQUEST = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {"type": "array", "minItems": 1, "maxItems": MAX_CART_LINES, "items": ITEM},
        "delivery": {"type": "string", "enum": ["delivery", "pickup"], "default": "delivery"},
        "coupon_code": COUPON_CODE,
    },
}

QUOTE = {
    "type": "object",
    "required": ["currency", "subtotal_minor", "delivery_fee_minor", "total_minor", "lines"],
    "properties": {
        "currency": {"type": "string"},
        "subtotal_minor": {"type": "integer"},
        "subtotal_display": {"type": "string"},
        "delivery_fee_minor": {"type": "integer"},
        "delivery_fee_display": {"type": "string"},
        "discount_minor": {"type": "integer", "description": "What the discount code takes off the items."},
        "discount_display": {"type": "string"},
        "coupon_code": {"type": ["string", "null"], "description": "The code applied, as the shop keeps it."},
        "coupon_saving_minor": {
            "type": "integer",
            "description": "Everything the code saves: the items' discount, or the delivery fee it waives.",
        },
        "coupon_saving_display": {"type": "string"},
        "total_minor": {"type": "integer"},
        "total_display": {"type": "string"},
        "lines": {"type": "array", "items": LINE},
    },
}

CART_CREATE_REQUEST = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "minItems": 1, "maxItems": MAX_CART_LINES, "items": ITEM},
    },
}

CART_CHECKOUT_REQUEST = {
    "type": "object",
    "required": ["customer"],
    "description": "The customer's details; the lines are the cart's.",
    "properties": {name: ORDER_REQUEST["properties"][name] for name in ORDER_REQUEST["properties"] if name != "items"},
}

SET_QUANTITY = {
    "type": "object",
    "required": ["quantity"],
    "properties": {"quantity": {"type": "integer", "minimum": 0, "maximum": MAX_LINE_QUANTITY}},
}

CART_NOTE = {
    "type": "object",
    "required": ["sku", "kind", "message"],
    "properties": {
        "sku": {"type": "string"},
        "kind": {
            "type": "string",
            "enum": ["unavailable", "sold_out", "fewer_left", "price_changed", "limited"],
            "description": "unavailable: no longer sold, left out of the total; sold_out and fewer_left: the "
            "order would be refused as it is; price_changed: since the line was added; limited: this change "
            "gave fewer than asked.",
        },
        "message": {"type": "string", "description": "Ready to show the shopper."},
    },
}

CART = {
    "type": "object",
    "required": ["token", "ordered", "open_url", "currency", "total_minor", "lines", "notes"],
    "properties": {
        **QUOTE["properties"],
        "token": {"type": "string", "description": "Keep it: it is the only way back to this cart."},
        "channel": {"type": "string", "enum": ["website", "widget", "api", "whatsapp"]},
        "ordered": {"type": "boolean", "description": "The cart was placed as an order: start a new one."},
        "open_url": {
            "type": "string",
            "format": "uri",
            "description": "Continues this cart on the shop's own site.",
        },
        "item_count": {"type": "integer"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {**LINE["properties"], "available": {"type": "integer"}},
            },
        },
        "notes": {"type": "array", "items": CART_NOTE},
        "coupon_error": {
            "type": ["string", "null"],
            "description": "Why the `coupon_code` asked for does not apply (the cart is priced without it).",
        },
    },
}

WIDGET_CONFIG = {
    "type": "object",
    "properties": {
        "store_name": {"type": "string"},
        "numbers": {"type": "array", "items": {"type": "string"}},
        "rotation": {"type": "string", "enum": ["round_robin", "random"]},
        "greeting": {"type": "string"},
        "open_now": {"type": "boolean"},
        "next_opening": {"type": ["string", "null"]},
        "currency": {"type": "string"},
        "locale": {"type": "string"},
        "pickup_enabled": {"type": "boolean"},
        "payment_methods": {"type": "array", "items": {"type": "string"}},
        "consent_wording": {"type": "string", "description": "The checkbox's words for WhatsApp reminders."},
        "consent_ticked": {"type": "boolean", "description": "Whether the checkbox starts ticked."},
    },
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json({"$ref": "#/components/schemas/Error"}, description)


def _body(schema_name: str, required: bool = True) -> dict:
    return {
        "required": required,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


CART_SECURITY = [{"secretKey": []}, {"widgetKey": []}]
TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
SKU = {"name": "sku", "in": "path", "required": True, "schema": {"type": "string"}, "description": "A line's SKU."}
DELIVERY = {
    "name": "delivery",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["delivery", "pickup"], "default": "delivery"},
    "description": "How the cart is priced.",
}
TYPED_CODE = {
    "name": "coupon_code",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": 40},
    "description": "A discount code to price the cart with; a code that does not apply is explained in `coupon_error`.",
}
CART_ANSWERS = {
    "200": _json({"$ref": "#/components/schemas/Cart"}, "The cart, priced, with notes on lines that changed"),
    "400": _error("The body is not JSON, or a field or parameter holds a NUL character"),
    "401": _error("No valid key"),
    "403": _error("A widget key from a site that is not allowed"),
    "404": _error("No such cart (or it expired), or no such line in it"),
    "409": _error("The cart was already ordered (cart_already_ordered), or the item is sold out"),
    "422": _error("Unknown SKUs, bad quantities, a product not for sale or a full cart"),
    "429": _error("Too many requests"),
}

CART_PATHS = {
    "/carts": {
        "post": {
            "summary": "Start a cart on the server (with its first items, if given)",
            "description": "Items that cannot be added (sold out, not for sale) are explained in `notes`.",
            "security": CART_SECURITY,
            "parameters": [DELIVERY, TYPED_CODE],
            "requestBody": _body("CartCreateRequest", required=False),
            "responses": {
                "201": _json({"$ref": "#/components/schemas/Cart"}, "The new cart and its token"),
                **{code: answer for code, answer in CART_ANSWERS.items() if code not in ("200", "404", "409")},
            },
        }
    },
    "/carts/{token}": {
        "get": {
            "summary": "Read a cart, priced as an order would be charged now",
            "security": CART_SECURITY,
            "parameters": [TOKEN, DELIVERY, TYPED_CODE],
            "responses": {code: CART_ANSWERS[code] for code in ("200", "400", "401", "403", "404", "422", "429")},
        }
    },
    "/carts/{token}/lines": {
        "post": {
            "summary": "Add an item; the same item again adds to its line, up to what the shop has",
            "security": CART_SECURITY,
            "parameters": [TOKEN, DELIVERY, TYPED_CODE],
            "requestBody": _body("CartItem"),
            "responses": CART_ANSWERS,
        }
    },
    "/carts/{token}/lines/{sku}": {
        "put": {
            "summary": "Set a line's quantity (0 removes it)",
            "security": CART_SECURITY,
            "parameters": [TOKEN, SKU, DELIVERY, TYPED_CODE],
            "requestBody": _body("SetQuantity"),
            "responses": CART_ANSWERS,
        },
        "delete": {
            "summary": "Remove a line",
            "security": CART_SECURITY,
            "parameters": [TOKEN, SKU, DELIVERY, TYPED_CODE],
            "responses": CART_ANSWERS,
        },
    },
    "/carts/{token}/order": {
        "post": {
            "summary": "Place the cart as a pending order (once: a cart makes one order)",
            "security": CART_SECURITY,
            "parameters": [
                TOKEN,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Repeat a request safely: the first answer is replayed for 24 hours.",
                },
            ],
            "requestBody": _body("CartCheckoutRequest"),
            "responses": {
                "201": _json({"$ref": "#/components/schemas/Order"}, "The order, with its WhatsApp handoff links"),
                "400": _error("The body is not JSON"),
                "401": _error("No valid key"),
                "403": _error("A widget key from a site that is not allowed"),
                "404": _error("No such cart (or it expired)"),
                "409": _error(
                    "Out of stock, a product no longer sold, the cart already ordered, or the same "
                    "Idempotency-Key still in progress"
                ),
                "422": _error("Field-by-field problems, an empty cart, or an Idempotency-Key reused"),
                "429": _error("Too many requests, or too many orders for this phone number"),
            },
        }
    },
}


def openapi_document(app) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chatout Store API",
            "version": "1.0.0",
            "description": "Create orders from any website's cart and hand them off to WhatsApp. Money is in integer "
            "minor units of the store's currency.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "secretKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A secret key (chk_…) from Admin → API keys.",
                },
                "widgetKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Chatout-Widget-Key",
                    "description": "The public widget key (chw_…): carts and orders, from allowed origins only.",
                },
            },
            "schemas": {
                "Error": ERROR,
                "OrderRequest": ORDER_REQUEST,
                "Order": ORDER,
                "PublicStatus": PUBLIC_STATUS,
                "Products": PRODUCTS,
                "WidgetConfig": WIDGET_CONFIG,
                "QuoteRequest": QUOTE_REQUEST,
                "Quote": QUOTE,
                "Cart": CART,
                "CartCreateRequest": CART_CREATE_REQUEST,
                "CartItem": ITEM,
                "SetQuantity": SET_QUANTITY,
                "CartCheckoutRequest": CART_CHECKOUT_REQUEST,
            },
        },
        "paths": {
            "/orders": {
                "post": {
                    "summary": "Create a pending order from a cart",
                    "security": [{"secretKey": []}, {"widgetKey": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 255},
                            "description": "Repeat a request safely: the first answer is replayed for 24 hours.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderRequest"}}},
                    },
                    "responses": {
                        "201": _json(
                            {"$ref": "#/components/schemas/Order"}, "The order, with its WhatsApp handoff links"
                        ),
                        "400": _error("The body is not JSON"),
                        "401": _error("No valid key"),
                        "403": _error("A widget key from a site that is not allowed"),
                        "409": _error(
                            "Out of stock, the same Idempotency-Key is still in progress, or the discount code "
                            "is used up (coupon_used_up)"
                        ),
                        "422": _error(
                            "Field-by-field problems, an Idempotency-Key reused with another body, the "
                            "customer's phone holding the most items the shop allows in unconfirmed orders "
                            "(pending_units_limit), or a discount code that can't be used (coupon_…)"
                        ),
                        "429": _error("Too many requests, or too many orders for this phone number"),
                    },
                }
            },
            "/quote": {
                "post": {
                    "summary": "Price a cart: subtotal, delivery and total, as an order would be charged now",
                    "security": [{"secretKey": []}, {"widgetKey": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuoteRequest"}}},
                    },
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Quote"}, "The prices"),
                        "400": _error("The body is not JSON"),
                        "401": _error("No valid key"),
                        "403": _error("A widget key from a site that is not allowed"),
                        "409": _error("The discount code is used up (coupon_used_up)"),
                        "422": _error(
                            "Unknown SKUs, bad quantities, an unavailable product, or a discount code that can't "
                            "be used (coupon_unknown, coupon_expired, coupon_minimum_not_reached…)"
                        ),
                        "429": _error("Too many requests"),
                    },
                }
            },
            **CART_PATHS,
            "/orders/{reference}": {
                "get": {
                    "summary": "Read an order",
                    "security": [{"secretKey": []}],
                    "parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Order"}, "The order"),
                        "401": _error("No valid key"),
                        "403": _error("Not a secret key"),
                        "404": _error("No such order"),
                        "429": _error("Too many requests"),
                    },
                }
            },
            "/status/{token}": {
                "get": {
                    "summary": "Public order status by its status-page token",
                    "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/PublicStatus"}, "Status and timeline"),
                        "404": _error("No such order"),
                        "429": _error("Too many requests"),
                    },
                }
            },
            "/products": {
                "get": {
                    "summary": "Active products with prices and availability (cacheable, ETag)",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Products"}, "The catalog"),
                        "304": {"description": "Not modified since the ETag given in If-None-Match"},
                        "429": _error("Too many requests"),
                    },
                }
            },
            "/widget/config": {
                "get": {
                    "summary": "What the chat widget needs (numbers, greeting, working hours)",
                    "security": [{"widgetKey": []}],
                    "parameters": [
                        {
                            "name": "key",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "The widget key, if not sent as a header.",
                        }
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/WidgetConfig"}, "Widget settings"),
                        "401": _error("No valid widget key"),
                        "403": _error("Asked from a site that is not allowed (readable there, to say why)"),
                        "429": _error("Too many requests"),
                    },
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
            },
            "/docs": {
                "get": {
                    "summary": "This document, for people",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
        },
    }
