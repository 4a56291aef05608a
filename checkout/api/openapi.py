"""The Store API's OpenAPI 3.1 description. A test checks it names every route the blueprint has."""

from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY

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
        "delivery_fee_minor": {"type": "integer"},
        "total_minor": {"type": "integer", "description": "Integer minor units of `currency` (paise, cents)."},
        "total_display": {"type": "string"},
        "lines": {"type": "array", "items": LINE},
        "status_url": {"type": "string", "format": "uri"},
        "created_at": {"type": "string", "format": "date-time"},
        "fulfilment": {"type": "string"},
        "payment_method": {"type": "string"},
        "payment_status": {"type": "string"},
        "external_reference": {"type": "string"},
        "customer": {"type": "object"},
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
    },
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json({"$ref": "#/components/schemas/Error"}, description)


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
                    "description": "The public widget key (chw_…): creates orders from allowed origins only.",
                },
            },
            "schemas": {
                "Error": ERROR,
                "OrderRequest": ORDER_REQUEST,
                "Order": ORDER,
                "PublicStatus": PUBLIC_STATUS,
                "Products": PRODUCTS,
                "WidgetConfig": WIDGET_CONFIG,
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
                        "409": _error("Out of stock, or the same Idempotency-Key is still in progress"),
                        "422": _error("Field-by-field problems, or an Idempotency-Key reused with another body"),
                        "429": _error("Too many requests"),
                    },
                }
            },
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
