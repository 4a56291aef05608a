"""How each order error is answered on the web: one table of HTTP status and API code per ErrorCode.

Field problems go under the field they name: the checkout form's fields are named as the order details
are; API_FIELDS gives their names in the Store API's JSON (any other field, a SKU, keeps its name).
"""

from dataclasses import dataclass

from checkout.orders.errors import ErrorCode, OrderError
from checkout.web.json_errors import error_body


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    api_code: str  # the `code` of the Store API's error body
    on_form: bool = False  # the storefront shows it under the checkout form's fields, not above the form


# 409: the shop's state changed under the request (stock, prices, the catalog, another staff member);
# 422: the request itself cannot be done as it is.
RESPONSES: dict[ErrorCode, ErrorResponse] = {
    ErrorCode.INVALID_DETAILS: ErrorResponse(422, "validation_failed", on_form=True),
    ErrorCode.PENDING_UNITS_LIMIT: ErrorResponse(422, "pending_units_limit", on_form=True),
    ErrorCode.OUT_OF_STOCK: ErrorResponse(409, "out_of_stock"),
    ErrorCode.PRICE_CHANGED: ErrorResponse(409, "order_rejected"),
    ErrorCode.PRODUCT_UNAVAILABLE: ErrorResponse(409, "order_rejected"),
    ErrorCode.INVALID_QUANTITY: ErrorResponse(422, "order_rejected"),
    ErrorCode.EMPTY_CART: ErrorResponse(422, "order_rejected"),
    ErrorCode.STALE_ORDER: ErrorResponse(409, "stale_order"),
    ErrorCode.TRANSITION_NOT_ALLOWED: ErrorResponse(422, "transition_not_allowed"),
    ErrorCode.REASON_REQUIRED: ErrorResponse(422, "reason_required"),
    ErrorCode.PAYMENT_REJECTED: ErrorResponse(422, "payment_rejected"),
    ErrorCode.INVALID_FULFILMENT: ErrorResponse(422, "invalid_fulfilment"),
    ErrorCode.NOT_ALLOWED_IN_BULK: ErrorResponse(422, "not_allowed_in_bulk"),
    ErrorCode.REFUND_DECISION_NEEDED: ErrorResponse(422, "refund_decision_needed"),
    ErrorCode.REFUND_FAILED: ErrorResponse(502, "refund_failed"),  # the provider's failure, not the request's
    # A discount code refused: shown beside the code box; the API names the reason in its code.
    ErrorCode.COUPON_UNKNOWN: ErrorResponse(422, "coupon_unknown", on_form=True),
    ErrorCode.COUPON_PAUSED: ErrorResponse(422, "coupon_paused", on_form=True),
    ErrorCode.COUPON_NOT_STARTED: ErrorResponse(422, "coupon_not_started", on_form=True),
    ErrorCode.COUPON_EXPIRED: ErrorResponse(422, "coupon_expired", on_form=True),
    ErrorCode.COUPON_MINIMUM_NOT_REACHED: ErrorResponse(422, "coupon_minimum_not_reached", on_form=True),
    ErrorCode.COUPON_USED_UP: ErrorResponse(409, "coupon_used_up", on_form=True),
    ErrorCode.COUPON_ALREADY_USED: ErrorResponse(422, "coupon_already_used", on_form=True),
    ErrorCode.COUPON_NOT_FOR_THESE_ITEMS: ErrorResponse(422, "coupon_not_for_these_items", on_form=True),
    ErrorCode.CART_NOT_FOUND: ErrorResponse(404, "cart_not_found"),
    ErrorCode.CART_FULL: ErrorResponse(422, "cart_full"),
    ErrorCode.CART_ALREADY_ORDERED: ErrorResponse(409, "cart_already_ordered"),
    ErrorCode.RETURN_NOT_ALLOWED: ErrorResponse(409, "return_not_allowed"),
    ErrorCode.DELIVERY_CHOICE_REFUSED: ErrorResponse(409, "delivery_choice_refused"),
}

API_FIELDS = {
    "name": "customer.name",
    "phone": "customer.phone",
    "address": "customer.address",
    "fulfilment": "delivery",
    "payment_method": "payment_method",
    "note": "note",
    "coupon_code": "coupon_code",
}


def response_for(error: OrderError) -> ErrorResponse:
    return RESPONSES[error.code]


def http_status(error: OrderError) -> int:
    return RESPONSES[error.code].status


def api_field(field: str) -> str:
    """An order detail's name in the Store API's JSON ("name" is "customer.name"); a SKU stays as it is."""
    return API_FIELDS.get(field, field)


def api_error(error: OrderError) -> tuple[int, dict]:
    """The Store API's answer to `error`: its status and the one error body, each problem under its field."""
    response = RESPONSES[error.code]
    fields = {api_field(problem.field): problem.message for problem in error.problems}
    return response.status, error_body(response.api_code, str(error), fields)
